// The smallest MQTT 3.1.1 client codec the test agent needs, with no dependencies and no I/O:
// encoders for CONNECT, SUBSCRIBE, PUBLISH (QoS 0), PINGREQ and DISCONNECT, and an incremental
// reader that turns bytes, in chunks of any size, into packets.
//
// Why not the `mqtt` package: the agent runs in an image that holds only the node binary and
// its shared libraries (no npm, no node_modules), so the agent is one plain-JS folder. The
// subset is small enough to test byte by byte (test/services/mqtt-lite.test.ts).
//
// Not supported, on purpose: QoS 1/2 outgoing, will messages, username/password, TLS, MQTT 5
// properties. A QoS 1/2 PUBLISH received is still decoded (with its packet id) so a caller can
// tell; the agent subscribes with QoS 0 so the broker never sends one.
//
// Spec references are to MQTT 3.1.1 (OASIS, 2014), section numbers in comments.

/** Packet type codes (high nibble of the first byte), §2.2.1. Only those we use. */
export const PacketType = Object.freeze({
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  SUBSCRIBE: 8,
  SUBACK: 9,
  PINGREQ: 12,
  PINGRESP: 13,
  DISCONNECT: 14,
})

/** Named limits. */
export const Limits = Object.freeze({
  /** Largest remaining length the spec allows (4 varint bytes), §2.2.3. */
  remainingLengthMax: 268_435_455,
  /** Largest packet the reader accepts by default; bigger ones are a protocol error. */
  packetBytesMaxDefault: 256 * 1024,
  /** Largest UTF-8 string field (u16 length prefix), §1.5.3. */
  stringBytesMax: 65_535,
})

/** SUBACK return code for a refused subscription, §3.9.3. */
export const SUBACK_FAILURE = 0x80

/** A broken or oversize packet from the broker. `code` is stable; branch on it, not the text. */
export class MqttProtocolError extends Error {
  /** @param {'E_MQTT_TOO_LARGE'|'E_MQTT_MALFORMED'} code @param {string} message */
  constructor(code, message) {
    super(message)
    this.name = 'MqttProtocolError'
    this.code = code
  }
}

// ---- encoding -------------------------------------------------------------------------------

/** @param {number} n @returns {number[]} remaining length as a varint, §2.2.3 */
function encodeRemainingLength(n) {
  if (!Number.isInteger(n) || n < 0 || n > Limits.remainingLengthMax) {
    throw new RangeError(`remaining length ${n} out of range`)
  }
  const out = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return out
}

/** @param {string} s @returns {Buffer} u16 length + UTF-8 bytes, §1.5.3 */
function encodeString(s) {
  const bytes = Buffer.from(s, 'utf8')
  if (bytes.length > Limits.stringBytesMax) throw new RangeError('string longer than 65535 bytes')
  const out = Buffer.alloc(2 + bytes.length)
  out.writeUInt16BE(bytes.length, 0)
  bytes.copy(out, 2)
  return out
}

/** @param {number} firstByte @param {Buffer[]} parts */
function packet(firstByte, parts) {
  const body = Buffer.concat(parts)
  return Buffer.concat([Buffer.from([firstByte, ...encodeRemainingLength(body.length)]), body])
}

/**
 * CONNECT, §3.1. Clean session: a restarted agent must not inherit a dead one's queue.
 * @param {{ clientId: string, keepAliveS: number }} opts
 */
export function encodeConnect({ clientId, keepAliveS }) {
  if (!Number.isInteger(keepAliveS) || keepAliveS < 0 || keepAliveS > 65_535) {
    throw new RangeError('keepAliveS must be an integer in [0, 65535]')
  }
  const header = Buffer.alloc(4)
  header[0] = 4 // protocol level 4 = MQTT 3.1.1
  header[1] = 0x02 // connect flags: clean session only
  header.writeUInt16BE(keepAliveS, 2)
  return packet(PacketType.CONNECT << 4, [encodeString('MQTT'), header, encodeString(clientId)])
}

/**
 * SUBSCRIBE with one topic filter at QoS 0, §3.8. The fixed-header flags must be 0b0010.
 * @param {{ packetId: number, topicFilter: string }} opts
 */
export function encodeSubscribe({ packetId, topicFilter }) {
  if (!Number.isInteger(packetId) || packetId < 1 || packetId > 65_535) {
    throw new RangeError('packetId must be in [1, 65535]')
  }
  const id = Buffer.alloc(2)
  id.writeUInt16BE(packetId, 0)
  return packet((PacketType.SUBSCRIBE << 4) | 0x02, [id, encodeString(topicFilter), Buffer.from([0])])
}

/**
 * PUBLISH at QoS 0, no retain, §3.3.
 * @param {{ topic: string, payload: Buffer | string }} opts
 */
export function encodePublish({ topic, payload }) {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload
  return packet(PacketType.PUBLISH << 4, [encodeString(topic), body])
}

export const PINGREQ = Buffer.from([PacketType.PINGREQ << 4, 0])
export const DISCONNECT = Buffer.from([PacketType.DISCONNECT << 4, 0])

// ---- decoding -------------------------------------------------------------------------------

/**
 * @typedef {{ type: 'connack', sessionPresent: boolean, returnCode: number }
 *   | { type: 'suback', packetId: number, returnCodes: number[] }
 *   | { type: 'publish', topic: string, payload: Buffer, qos: number, retain: boolean,
 *       dup: boolean, packetId: number | undefined }
 *   | { type: 'pingresp' }
 *   | { type: 'other', packetType: number }} Packet
 */

/**
 * Turns a byte stream into packets. Feed it chunks with `push`; it returns every packet the
 * bytes so far complete and keeps the rest. Throws MqttProtocolError on a malformed or oversize
 * packet; after that the stream is unusable (close the connection).
 */
export class PacketReader {
  /** @param {{ packetBytesMax?: number }} [opts] */
  constructor(opts = {}) {
    this.packetBytesMax = opts.packetBytesMax ?? Limits.packetBytesMaxDefault
    /** @type {Buffer} */
    this.pending = Buffer.alloc(0)
  }

  /** @param {Buffer} chunk @returns {Packet[]} */
  push(chunk) {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    /** @type {Packet[]} */
    const out = []
    for (;;) {
      const frame = this.#nextFrame()
      if (frame === undefined) break
      out.push(decodePacket(frame.firstByte, frame.body))
    }
    return out
  }

  /** @returns {{ firstByte: number, body: Buffer } | undefined} */
  #nextFrame() {
    const buf = this.pending
    if (buf.length < 2) return undefined
    let remaining = 0
    let multiplier = 1
    let i = 1
    for (;;) {
      if (i >= buf.length) return undefined // varint not complete yet
      if (i > 4) throw new MqttProtocolError('E_MQTT_MALFORMED', 'remaining length longer than 4 bytes')
      const byte = buf[i]
      remaining += (byte & 0x7f) * multiplier
      multiplier *= 128
      i += 1
      if ((byte & 0x80) === 0) break
    }
    const total = i + remaining
    // Checked before buffering the body, so a hostile length cannot make us hold it.
    if (total > this.packetBytesMax) {
      throw new MqttProtocolError('E_MQTT_TOO_LARGE', `packet of ${total} bytes over limit ${this.packetBytesMax}`)
    }
    if (buf.length < total) return undefined
    const frame = { firstByte: buf[0], body: buf.subarray(i, total) }
    this.pending = buf.subarray(total)
    return frame
  }
}

/** @param {number} firstByte @param {Buffer} body @returns {Packet} */
function decodePacket(firstByte, body) {
  const type = firstByte >> 4
  switch (type) {
    case PacketType.CONNACK:
      need(body.length === 2, 'CONNACK must have 2 bytes')
      return { type: 'connack', sessionPresent: (body[0] & 1) === 1, returnCode: body[1] }
    case PacketType.SUBACK:
      need(body.length >= 3, 'SUBACK too short')
      return { type: 'suback', packetId: body.readUInt16BE(0), returnCodes: [...body.subarray(2)] }
    case PacketType.PUBLISH:
      return decodePublish(firstByte, body)
    case PacketType.PINGRESP:
      need(body.length === 0, 'PINGRESP must be empty')
      return { type: 'pingresp' }
    default:
      return { type: 'other', packetType: type }
  }
}

/** @param {number} firstByte @param {Buffer} body @returns {Packet} */
function decodePublish(firstByte, body) {
  const qos = (firstByte >> 1) & 0x03
  need(qos !== 3, 'PUBLISH with QoS 3')
  need(body.length >= 2, 'PUBLISH too short')
  const topicLength = body.readUInt16BE(0)
  let offset = 2 + topicLength
  need(body.length >= offset, 'PUBLISH topic runs past the packet')
  const topic = body.toString('utf8', 2, offset)
  let packetId
  if (qos > 0) {
    need(body.length >= offset + 2, 'PUBLISH packet id missing')
    packetId = body.readUInt16BE(offset)
    offset += 2
  }
  return {
    type: 'publish',
    topic,
    payload: body.subarray(offset),
    qos,
    retain: (firstByte & 1) === 1,
    dup: (firstByte & 8) === 8,
    packetId,
  }
}

/** @param {boolean} condition @param {string} message */
function need(condition, message) {
  if (!condition) throw new MqttProtocolError('E_MQTT_MALFORMED', message)
}
