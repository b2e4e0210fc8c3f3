/* eslint-disable require-yield */

import { decodeMessage, encodeMessage, MaxLengthError, MaxSizeError, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Capacity {
  slots: number
  cpuMillis: number
  memoryMib: number
}

export namespace Capacity {
  let _codec: Codec<Capacity>

  export const codec = (): Codec<Capacity> => {
    if (_codec == null) {
      _codec = message<Capacity>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.slots != null && obj.slots !== 0)) {
          w.uint32(8)
          w.uint32(obj.slots)
        }

        if ((obj.cpuMillis != null && obj.cpuMillis !== 0)) {
          w.uint32(16)
          w.uint32(obj.cpuMillis)
        }

        if ((obj.memoryMib != null && obj.memoryMib !== 0)) {
          w.uint32(24)
          w.uint32(obj.memoryMib)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          slots: 0,
          cpuMillis: 0,
          memoryMib: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.slots = reader.uint32()
              break
            }
            case 2: {
              obj.cpuMillis = reader.uint32()
              break
            }
            case 3: {
              obj.memoryMib = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.slots`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.cpuMillis`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.memoryMib`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface CapacitySlotsFieldEvent {
    field: '$.slots'
    value: number
  }

  export interface CapacityCpuMillisFieldEvent {
    field: '$.cpuMillis'
    value: number
  }

  export interface CapacityMemoryMibFieldEvent {
    field: '$.memoryMib'
    value: number
  }

  export function encode (obj: Partial<Capacity>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Capacity.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Capacity>): Capacity {
    return decodeMessage(buf, Capacity.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Capacity>): Generator<CapacitySlotsFieldEvent | CapacityCpuMillisFieldEvent | CapacityMemoryMibFieldEvent> {
    return streamMessage(buf, Capacity.codec(), opts)
  }
}

export interface ServiceCount {
  service: string
  replicas: number
  ready?: number
}

export namespace ServiceCount {
  let _codec: Codec<ServiceCount>

  export const codec = (): Codec<ServiceCount> => {
    if (_codec == null) {
      _codec = message<ServiceCount>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.service != null && obj.service !== '')) {
          w.uint32(10)
          w.string(obj.service)
        }

        if ((obj.replicas != null && obj.replicas !== 0)) {
          w.uint32(16)
          w.uint32(obj.replicas)
        }

        if (obj.ready != null) {
          w.uint32(24)
          w.uint32(obj.ready)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          service: '',
          replicas: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.service = reader.string()
              break
            }
            case 2: {
              obj.replicas = reader.uint32()
              break
            }
            case 3: {
              obj.ready = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.service`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.replicas`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.ready`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ServiceCountServiceFieldEvent {
    field: '$.service'
    value: string
  }

  export interface ServiceCountReplicasFieldEvent {
    field: '$.replicas'
    value: number
  }

  export interface ServiceCountReadyFieldEvent {
    field: '$.ready'
    value: number
  }

  export function encode (obj: Partial<ServiceCount>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ServiceCount.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ServiceCount>): ServiceCount {
    return decodeMessage(buf, ServiceCount.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ServiceCount>): Generator<ServiceCountServiceFieldEvent | ServiceCountReplicasFieldEvent | ServiceCountReadyFieldEvent> {
    return streamMessage(buf, ServiceCount.codec(), opts)
  }
}

export interface SignalSample {
  service: string
  value: number
  ageMs: number
  upstream: boolean
  siteWide?: boolean
  rate?: boolean
}

export namespace SignalSample {
  let _codec: Codec<SignalSample>

  export const codec = (): Codec<SignalSample> => {
    if (_codec == null) {
      _codec = message<SignalSample>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.service != null && obj.service !== '')) {
          w.uint32(10)
          w.string(obj.service)
        }

        if ((obj.value != null && obj.value !== 0)) {
          w.uint32(17)
          w.double(obj.value)
        }

        if ((obj.ageMs != null && obj.ageMs !== 0)) {
          w.uint32(24)
          w.uint32(obj.ageMs)
        }

        if ((obj.upstream != null && obj.upstream !== false)) {
          w.uint32(32)
          w.bool(obj.upstream)
        }

        if (obj.siteWide != null) {
          w.uint32(40)
          w.bool(obj.siteWide)
        }

        if (obj.rate != null) {
          w.uint32(48)
          w.bool(obj.rate)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          service: '',
          value: 0,
          ageMs: 0,
          upstream: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.service = reader.string()
              break
            }
            case 2: {
              obj.value = reader.double()
              break
            }
            case 3: {
              obj.ageMs = reader.uint32()
              break
            }
            case 4: {
              obj.upstream = reader.bool()
              break
            }
            case 5: {
              obj.siteWide = reader.bool()
              break
            }
            case 6: {
              obj.rate = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.service`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.value`,
                value: reader.double()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.ageMs`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.upstream`,
                value: reader.bool()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.siteWide`,
                value: reader.bool()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.rate`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SignalSampleServiceFieldEvent {
    field: '$.service'
    value: string
  }

  export interface SignalSampleValueFieldEvent {
    field: '$.value'
    value: number
  }

  export interface SignalSampleAgeMsFieldEvent {
    field: '$.ageMs'
    value: number
  }

  export interface SignalSampleUpstreamFieldEvent {
    field: '$.upstream'
    value: boolean
  }

  export interface SignalSampleSiteWideFieldEvent {
    field: '$.siteWide'
    value: boolean
  }

  export interface SignalSampleRateFieldEvent {
    field: '$.rate'
    value: boolean
  }

  export function encode (obj: Partial<SignalSample>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignalSample.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignalSample>): SignalSample {
    return decodeMessage(buf, SignalSample.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignalSample>): Generator<SignalSampleServiceFieldEvent | SignalSampleValueFieldEvent | SignalSampleAgeMsFieldEvent | SignalSampleUpstreamFieldEvent | SignalSampleSiteWideFieldEvent | SignalSampleRateFieldEvent> {
    return streamMessage(buf, SignalSample.codec(), opts)
  }
}

export interface Heartbeat {
  labels: Map<string, string>
  capacity?: Capacity
  priority: number
  running: ServiceCount[]
  signals: SignalSample[]
  addrs: string[]
  term: number
  leaderId: string
  planVersion: number
  runtimeOk: boolean
  unavailableServices: string[]
}

export namespace Heartbeat {
  export interface Heartbeat$labelsEntry {
    key: string
    value: string
  }

  export namespace Heartbeat$labelsEntry {
    let _codec: Codec<Heartbeat$labelsEntry>

    export const codec = (): Codec<Heartbeat$labelsEntry> => {
      if (_codec == null) {
        _codec = message<Heartbeat$labelsEntry>((obj, w, opts = {}) => {
          if (opts.lengthDelimited !== false) {
            w.fork()
          }

          if ((obj.key != null && obj.key !== '')) {
            w.uint32(10)
            w.string(obj.key)
          }

          if ((obj.value != null && obj.value !== '')) {
            w.uint32(18)
            w.string(obj.value)
          }

          if (opts.lengthDelimited !== false) {
            w.ldelim()
          }
        }, (reader, length, opts = {}) => {
          const obj: any = {
            key: '',
            value: ''
          }

          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                obj.key = reader.string()
                break
              }
              case 2: {
                obj.value = reader.string()
                break
              }
              default: {
                reader.skipType(tag & 7)
                break
              }
            }
          }

          return obj
        }, function * (reader, length, prefix, opts = {}) {
          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                yield {
                  field: `${prefix}.key`,
                  value: reader.string()
                }
                break
              }
              case 2: {
                yield {
                  field: `${prefix}.value`,
                  value: reader.string()
                }
                break
              }
              default: {
                reader.skipType(tag & 7)
                break
              }
            }
          }
        })
      }

      return _codec
    }

    export interface Heartbeat$labelsEntryKeyFieldEvent {
      field: '$.key'
      value: string
    }

    export interface Heartbeat$labelsEntryValueFieldEvent {
      field: '$.value'
      value: string
    }

    export function encode (obj: Partial<Heartbeat$labelsEntry>): Uint8Array<ArrayBuffer> {
      return encodeMessage(obj, Heartbeat$labelsEntry.codec())
    }

    export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Heartbeat$labelsEntry>): Heartbeat$labelsEntry {
      return decodeMessage(buf, Heartbeat$labelsEntry.codec(), opts)
    }

    export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Heartbeat$labelsEntry>): Generator<Heartbeat$labelsEntryKeyFieldEvent | Heartbeat$labelsEntryValueFieldEvent> {
      return streamMessage(buf, Heartbeat$labelsEntry.codec(), opts)
    }
  }

  let _codec: Codec<Heartbeat>

  export const codec = (): Codec<Heartbeat> => {
    if (_codec == null) {
      _codec = message<Heartbeat>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.labels != null && obj.labels.size > 0) {
          for (const [key, value] of obj.labels.entries()) {
            w.uint32(10)
            Heartbeat.Heartbeat$labelsEntry.codec().encode({ key, value }, w)
          }
        }

        if (obj.capacity != null) {
          w.uint32(18)
          Capacity.codec().encode(obj.capacity, w)
        }

        if ((obj.priority != null && obj.priority !== 0)) {
          w.uint32(24)
          w.int32(obj.priority)
        }

        if (obj.running != null && obj.running.length > 0) {
          for (const value of obj.running) {
            w.uint32(34)
            ServiceCount.codec().encode(value, w)
          }
        }

        if (obj.signals != null && obj.signals.length > 0) {
          for (const value of obj.signals) {
            w.uint32(42)
            SignalSample.codec().encode(value, w)
          }
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(50)
            w.string(value)
          }
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(56)
          w.uint64Number(obj.term)
        }

        if ((obj.leaderId != null && obj.leaderId !== '')) {
          w.uint32(66)
          w.string(obj.leaderId)
        }

        if ((obj.planVersion != null && obj.planVersion !== 0)) {
          w.uint32(72)
          w.uint64Number(obj.planVersion)
        }

        if ((obj.runtimeOk != null && obj.runtimeOk !== false)) {
          w.uint32(80)
          w.bool(obj.runtimeOk)
        }

        if (obj.unavailableServices != null && obj.unavailableServices.length > 0) {
          for (const value of obj.unavailableServices) {
            w.uint32(90)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          labels: new Map<string, string>(),
          priority: 0,
          running: [],
          signals: [],
          addrs: [],
          term: 0,
          leaderId: '',
          planVersion: 0,
          runtimeOk: false,
          unavailableServices: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.labels != null && obj.labels.size === opts.limits.labels) {
                throw new MaxSizeError('Decode error - map field "labels" had too many elements')
              }

              const entry = Heartbeat.Heartbeat$labelsEntry.codec().decode(reader, reader.uint32(), {
                limits: {
                  value: opts.limits?.labels$value
                }
              })
              obj.labels.set(entry.key, entry.value)
              break
            }
            case 2: {
              obj.capacity = Capacity.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.capacity
              })
              break
            }
            case 3: {
              obj.priority = reader.int32()
              break
            }
            case 4: {
              if (opts.limits?.running != null && obj.running.length === opts.limits.running) {
                throw new MaxLengthError('Decode error - repeated field "running" had too many elements')
              }

              obj.running.push(ServiceCount.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.running$
              }))
              break
            }
            case 5: {
              if (opts.limits?.signals != null && obj.signals.length === opts.limits.signals) {
                throw new MaxLengthError('Decode error - repeated field "signals" had too many elements')
              }

              obj.signals.push(SignalSample.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.signals$
              }))
              break
            }
            case 6: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.string())
              break
            }
            case 7: {
              obj.term = reader.uint64Number()
              break
            }
            case 8: {
              obj.leaderId = reader.string()
              break
            }
            case 9: {
              obj.planVersion = reader.uint64Number()
              break
            }
            case 10: {
              obj.runtimeOk = reader.bool()
              break
            }
            case 11: {
              if (opts.limits?.unavailableServices != null && obj.unavailableServices.length === opts.limits.unavailableServices) {
                throw new MaxLengthError('Decode error - repeated field "unavailableServices" had too many elements')
              }

              obj.unavailableServices.push(reader.string())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          labels: 0,
          running: 0,
          signals: 0,
          addrs: 0,
          unavailableServices: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.labels != null && obj.labels === opts.limits.labels) {
                throw new MaxLengthError('Decode error - map field "labels" had too many elements')
              }

              yield * Heartbeat.Heartbeat$labelsEntry.codec().stream(reader, reader.uint32(), `${prefix}.labels{}`, {
                limits: {
                  value: opts.limits?.labels$value
                }
              })

              obj.labels++

              break
            }
            case 2: {
              yield * Capacity.codec().stream(reader, reader.uint32(), `${prefix}.capacity`, {
                limits: opts.limits?.capacity
              })

              break
            }
            case 3: {
              yield {
                field: `${prefix}.priority`,
                value: reader.int32()
              }
              break
            }
            case 4: {
              if (opts.limits?.running != null && obj.running === opts.limits.running) {
                throw new MaxLengthError('Streaming decode error - repeated field "running" had too many elements')
              }

              for (const evt of ServiceCount.codec().stream(reader, reader.uint32(), `${prefix}.running[]`, {
                limits: opts.limits?.running$
              })) {
                yield {
                  ...evt,
                  index: obj.running
                }
              }

              obj.running++

              break
            }
            case 5: {
              if (opts.limits?.signals != null && obj.signals === opts.limits.signals) {
                throw new MaxLengthError('Streaming decode error - repeated field "signals" had too many elements')
              }

              for (const evt of SignalSample.codec().stream(reader, reader.uint32(), `${prefix}.signals[]`, {
                limits: opts.limits?.signals$
              })) {
                yield {
                  ...evt,
                  index: obj.signals
                }
              }

              obj.signals++

              break
            }
            case 6: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.string()
              }

              obj.addrs++

              break
            }
            case 7: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.leaderId`,
                value: reader.string()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.planVersion`,
                value: reader.uint64Number()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.runtimeOk`,
                value: reader.bool()
              }
              break
            }
            case 11: {
              if (opts.limits?.unavailableServices != null && obj.unavailableServices === opts.limits.unavailableServices) {
                throw new MaxLengthError('Streaming decode error - repeated field "unavailableServices" had too many elements')
              }

              yield {
                field: `${prefix}.unavailableServices[]`,
                index: obj.unavailableServices,
                value: reader.string()
              }

              obj.unavailableServices++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface HeartbeatLabelsFieldEvent {
    field: '$.labels{}'
    key: string
    value: string
  }

  export interface HeartbeatCapacitySlotsFieldEvent {
    field: '$.capacity.slots'
    value: number
  }

  export interface HeartbeatCapacityCpuMillisFieldEvent {
    field: '$.capacity.cpuMillis'
    value: number
  }

  export interface HeartbeatCapacityMemoryMibFieldEvent {
    field: '$.capacity.memoryMib'
    value: number
  }

  export interface HeartbeatPriorityFieldEvent {
    field: '$.priority'
    value: number
  }

  export interface HeartbeatRunningServiceFieldEvent {
    field: '$.running[].service'
    value: string
    index: number
  }

  export interface HeartbeatRunningReplicasFieldEvent {
    field: '$.running[].replicas'
    value: number
    index: number
  }

  export interface HeartbeatRunningReadyFieldEvent {
    field: '$.running[].ready'
    value: number
    index: number
  }

  export interface HeartbeatSignalsServiceFieldEvent {
    field: '$.signals[].service'
    value: string
    index: number
  }

  export interface HeartbeatSignalsValueFieldEvent {
    field: '$.signals[].value'
    value: number
    index: number
  }

  export interface HeartbeatSignalsAgeMsFieldEvent {
    field: '$.signals[].ageMs'
    value: number
    index: number
  }

  export interface HeartbeatSignalsUpstreamFieldEvent {
    field: '$.signals[].upstream'
    value: boolean
    index: number
  }

  export interface HeartbeatSignalsSiteWideFieldEvent {
    field: '$.signals[].siteWide'
    value: boolean
    index: number
  }

  export interface HeartbeatSignalsRateFieldEvent {
    field: '$.signals[].rate'
    value: boolean
    index: number
  }

  export interface HeartbeatAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: string
  }

  export interface HeartbeatTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface HeartbeatLeaderIdFieldEvent {
    field: '$.leaderId'
    value: string
  }

  export interface HeartbeatPlanVersionFieldEvent {
    field: '$.planVersion'
    value: number
  }

  export interface HeartbeatRuntimeOkFieldEvent {
    field: '$.runtimeOk'
    value: boolean
  }

  export interface HeartbeatUnavailableServicesFieldEvent {
    field: '$.unavailableServices[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<Heartbeat>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Heartbeat.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Heartbeat>): Heartbeat {
    return decodeMessage(buf, Heartbeat.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Heartbeat>): Generator<HeartbeatLabelsFieldEvent | HeartbeatCapacitySlotsFieldEvent | HeartbeatCapacityCpuMillisFieldEvent | HeartbeatCapacityMemoryMibFieldEvent | HeartbeatPriorityFieldEvent | HeartbeatRunningServiceFieldEvent | HeartbeatRunningReplicasFieldEvent | HeartbeatRunningReadyFieldEvent | HeartbeatSignalsServiceFieldEvent | HeartbeatSignalsValueFieldEvent | HeartbeatSignalsAgeMsFieldEvent | HeartbeatSignalsUpstreamFieldEvent | HeartbeatSignalsSiteWideFieldEvent | HeartbeatSignalsRateFieldEvent | HeartbeatAddrsFieldEvent | HeartbeatTermFieldEvent | HeartbeatLeaderIdFieldEvent | HeartbeatPlanVersionFieldEvent | HeartbeatRuntimeOkFieldEvent | HeartbeatUnavailableServicesFieldEvent> {
    return streamMessage(buf, Heartbeat.codec(), opts)
  }
}

export interface VoteRequest {
  term: number
  priority: number
  electorate: number
  preVote: boolean
  roundMs?: number
}

export namespace VoteRequest {
  let _codec: Codec<VoteRequest>

  export const codec = (): Codec<VoteRequest> => {
    if (_codec == null) {
      _codec = message<VoteRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.term)
        }

        if ((obj.priority != null && obj.priority !== 0)) {
          w.uint32(16)
          w.int32(obj.priority)
        }

        if ((obj.electorate != null && obj.electorate !== 0)) {
          w.uint32(24)
          w.uint32(obj.electorate)
        }

        if ((obj.preVote != null && obj.preVote !== false)) {
          w.uint32(32)
          w.bool(obj.preVote)
        }

        if (obj.roundMs != null) {
          w.uint32(40)
          w.uint32(obj.roundMs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          term: 0,
          priority: 0,
          electorate: 0,
          preVote: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.term = reader.uint64Number()
              break
            }
            case 2: {
              obj.priority = reader.int32()
              break
            }
            case 3: {
              obj.electorate = reader.uint32()
              break
            }
            case 4: {
              obj.preVote = reader.bool()
              break
            }
            case 5: {
              obj.roundMs = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.priority`,
                value: reader.int32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.electorate`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.preVote`,
                value: reader.bool()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.roundMs`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface VoteRequestTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface VoteRequestPriorityFieldEvent {
    field: '$.priority'
    value: number
  }

  export interface VoteRequestElectorateFieldEvent {
    field: '$.electorate'
    value: number
  }

  export interface VoteRequestPreVoteFieldEvent {
    field: '$.preVote'
    value: boolean
  }

  export interface VoteRequestRoundMsFieldEvent {
    field: '$.roundMs'
    value: number
  }

  export function encode (obj: Partial<VoteRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, VoteRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<VoteRequest>): VoteRequest {
    return decodeMessage(buf, VoteRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<VoteRequest>): Generator<VoteRequestTermFieldEvent | VoteRequestPriorityFieldEvent | VoteRequestElectorateFieldEvent | VoteRequestPreVoteFieldEvent | VoteRequestRoundMsFieldEvent> {
    return streamMessage(buf, VoteRequest.codec(), opts)
  }
}

export interface Vote {
  term: number
  candidateId: string
  granted: boolean
  preVote: boolean
}

export namespace Vote {
  let _codec: Codec<Vote>

  export const codec = (): Codec<Vote> => {
    if (_codec == null) {
      _codec = message<Vote>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.term)
        }

        if ((obj.candidateId != null && obj.candidateId !== '')) {
          w.uint32(18)
          w.string(obj.candidateId)
        }

        if ((obj.granted != null && obj.granted !== false)) {
          w.uint32(24)
          w.bool(obj.granted)
        }

        if ((obj.preVote != null && obj.preVote !== false)) {
          w.uint32(32)
          w.bool(obj.preVote)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          term: 0,
          candidateId: '',
          granted: false,
          preVote: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.term = reader.uint64Number()
              break
            }
            case 2: {
              obj.candidateId = reader.string()
              break
            }
            case 3: {
              obj.granted = reader.bool()
              break
            }
            case 4: {
              obj.preVote = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.candidateId`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.granted`,
                value: reader.bool()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.preVote`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface VoteTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface VoteCandidateIdFieldEvent {
    field: '$.candidateId'
    value: string
  }

  export interface VoteGrantedFieldEvent {
    field: '$.granted'
    value: boolean
  }

  export interface VotePreVoteFieldEvent {
    field: '$.preVote'
    value: boolean
  }

  export function encode (obj: Partial<Vote>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Vote.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Vote>): Vote {
    return decodeMessage(buf, Vote.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Vote>): Generator<VoteTermFieldEvent | VoteCandidateIdFieldEvent | VoteGrantedFieldEvent | VotePreVoteFieldEvent> {
    return streamMessage(buf, Vote.codec(), opts)
  }
}

export interface Leave {}

export namespace Leave {
  let _codec: Codec<Leave>

  export const codec = (): Codec<Leave> => {
    if (_codec == null) {
      _codec = message<Leave>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export function encode (obj: Partial<Leave>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Leave.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Leave>): Leave {
    return decodeMessage(buf, Leave.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Leave>): Generator<{}> {
    return streamMessage(buf, Leave.codec(), opts)
  }
}

export interface HostAssignment {
  hostId: string
  replicas: number[]
}

export namespace HostAssignment {
  let _codec: Codec<HostAssignment>

  export const codec = (): Codec<HostAssignment> => {
    if (_codec == null) {
      _codec = message<HostAssignment>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.hostId != null && obj.hostId !== '')) {
          w.uint32(10)
          w.string(obj.hostId)
        }

        if (obj.replicas != null && obj.replicas.length > 0) {
          for (const value of obj.replicas) {
            w.uint32(16)
            w.uint32(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          hostId: '',
          replicas: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.hostId = reader.string()
              break
            }
            case 2: {
              if (opts.limits?.replicas != null && obj.replicas.length === opts.limits.replicas) {
                throw new MaxLengthError('Decode error - repeated field "replicas" had too many elements')
              }

              obj.replicas.push(reader.uint32())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          replicas: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.hostId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              if (opts.limits?.replicas != null && obj.replicas === opts.limits.replicas) {
                throw new MaxLengthError('Streaming decode error - repeated field "replicas" had too many elements')
              }

              yield {
                field: `${prefix}.replicas[]`,
                index: obj.replicas,
                value: reader.uint32()
              }

              obj.replicas++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface HostAssignmentHostIdFieldEvent {
    field: '$.hostId'
    value: string
  }

  export interface HostAssignmentReplicasFieldEvent {
    field: '$.replicas[]'
    index: number
    value: number
  }

  export function encode (obj: Partial<HostAssignment>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, HostAssignment.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HostAssignment>): HostAssignment {
    return decodeMessage(buf, HostAssignment.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HostAssignment>): Generator<HostAssignmentHostIdFieldEvent | HostAssignmentReplicasFieldEvent> {
    return streamMessage(buf, HostAssignment.codec(), opts)
  }
}

export interface ServiceDecision {
  service: string
  desired: number
  failingStatic: boolean
  drainPerReplica?: number
}

export namespace ServiceDecision {
  let _codec: Codec<ServiceDecision>

  export const codec = (): Codec<ServiceDecision> => {
    if (_codec == null) {
      _codec = message<ServiceDecision>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.service != null && obj.service !== '')) {
          w.uint32(10)
          w.string(obj.service)
        }

        if ((obj.desired != null && obj.desired !== 0)) {
          w.uint32(16)
          w.uint32(obj.desired)
        }

        if ((obj.failingStatic != null && obj.failingStatic !== false)) {
          w.uint32(24)
          w.bool(obj.failingStatic)
        }

        if (obj.drainPerReplica != null) {
          w.uint32(33)
          w.double(obj.drainPerReplica)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          service: '',
          desired: 0,
          failingStatic: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.service = reader.string()
              break
            }
            case 2: {
              obj.desired = reader.uint32()
              break
            }
            case 3: {
              obj.failingStatic = reader.bool()
              break
            }
            case 4: {
              obj.drainPerReplica = reader.double()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.service`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.desired`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.failingStatic`,
                value: reader.bool()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.drainPerReplica`,
                value: reader.double()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ServiceDecisionServiceFieldEvent {
    field: '$.service'
    value: string
  }

  export interface ServiceDecisionDesiredFieldEvent {
    field: '$.desired'
    value: number
  }

  export interface ServiceDecisionFailingStaticFieldEvent {
    field: '$.failingStatic'
    value: boolean
  }

  export interface ServiceDecisionDrainPerReplicaFieldEvent {
    field: '$.drainPerReplica'
    value: number
  }

  export function encode (obj: Partial<ServiceDecision>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ServiceDecision.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ServiceDecision>): ServiceDecision {
    return decodeMessage(buf, ServiceDecision.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ServiceDecision>): Generator<ServiceDecisionServiceFieldEvent | ServiceDecisionDesiredFieldEvent | ServiceDecisionFailingStaticFieldEvent | ServiceDecisionDrainPerReplicaFieldEvent> {
    return streamMessage(buf, ServiceDecision.codec(), opts)
  }
}

export interface Plan {
  term: number
  version: number
  services: string[]
  hosts: HostAssignment[]
  decisions: ServiceDecision[]
}

export namespace Plan {
  let _codec: Codec<Plan>

  export const codec = (): Codec<Plan> => {
    if (_codec == null) {
      _codec = message<Plan>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.term)
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.version)
        }

        if (obj.services != null && obj.services.length > 0) {
          for (const value of obj.services) {
            w.uint32(26)
            w.string(value)
          }
        }

        if (obj.hosts != null && obj.hosts.length > 0) {
          for (const value of obj.hosts) {
            w.uint32(34)
            HostAssignment.codec().encode(value, w)
          }
        }

        if (obj.decisions != null && obj.decisions.length > 0) {
          for (const value of obj.decisions) {
            w.uint32(42)
            ServiceDecision.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          term: 0,
          version: 0,
          services: [],
          hosts: [],
          decisions: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.term = reader.uint64Number()
              break
            }
            case 2: {
              obj.version = reader.uint64Number()
              break
            }
            case 3: {
              if (opts.limits?.services != null && obj.services.length === opts.limits.services) {
                throw new MaxLengthError('Decode error - repeated field "services" had too many elements')
              }

              obj.services.push(reader.string())
              break
            }
            case 4: {
              if (opts.limits?.hosts != null && obj.hosts.length === opts.limits.hosts) {
                throw new MaxLengthError('Decode error - repeated field "hosts" had too many elements')
              }

              obj.hosts.push(HostAssignment.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.hosts$
              }))
              break
            }
            case 5: {
              if (opts.limits?.decisions != null && obj.decisions.length === opts.limits.decisions) {
                throw new MaxLengthError('Decode error - repeated field "decisions" had too many elements')
              }

              obj.decisions.push(ServiceDecision.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.decisions$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          services: 0,
          hosts: 0,
          decisions: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              if (opts.limits?.services != null && obj.services === opts.limits.services) {
                throw new MaxLengthError('Streaming decode error - repeated field "services" had too many elements')
              }

              yield {
                field: `${prefix}.services[]`,
                index: obj.services,
                value: reader.string()
              }

              obj.services++

              break
            }
            case 4: {
              if (opts.limits?.hosts != null && obj.hosts === opts.limits.hosts) {
                throw new MaxLengthError('Streaming decode error - repeated field "hosts" had too many elements')
              }

              for (const evt of HostAssignment.codec().stream(reader, reader.uint32(), `${prefix}.hosts[]`, {
                limits: opts.limits?.hosts$
              })) {
                yield {
                  ...evt,
                  index: obj.hosts
                }
              }

              obj.hosts++

              break
            }
            case 5: {
              if (opts.limits?.decisions != null && obj.decisions === opts.limits.decisions) {
                throw new MaxLengthError('Streaming decode error - repeated field "decisions" had too many elements')
              }

              for (const evt of ServiceDecision.codec().stream(reader, reader.uint32(), `${prefix}.decisions[]`, {
                limits: opts.limits?.decisions$
              })) {
                yield {
                  ...evt,
                  index: obj.decisions
                }
              }

              obj.decisions++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PlanTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface PlanVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface PlanServicesFieldEvent {
    field: '$.services[]'
    index: number
    value: string
  }

  export interface PlanHostsHostIdFieldEvent {
    field: '$.hosts[].hostId'
    value: string
    index: number
  }

  export interface PlanHostsReplicasFieldEvent {
    field: '$.hosts[].replicas[]'
    index: number
    value: number
  }

  export interface PlanDecisionsServiceFieldEvent {
    field: '$.decisions[].service'
    value: string
    index: number
  }

  export interface PlanDecisionsDesiredFieldEvent {
    field: '$.decisions[].desired'
    value: number
    index: number
  }

  export interface PlanDecisionsFailingStaticFieldEvent {
    field: '$.decisions[].failingStatic'
    value: boolean
    index: number
  }

  export interface PlanDecisionsDrainPerReplicaFieldEvent {
    field: '$.decisions[].drainPerReplica'
    value: number
    index: number
  }

  export function encode (obj: Partial<Plan>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Plan.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Plan>): Plan {
    return decodeMessage(buf, Plan.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Plan>): Generator<PlanTermFieldEvent | PlanVersionFieldEvent | PlanServicesFieldEvent | PlanHostsHostIdFieldEvent | PlanHostsReplicasFieldEvent | PlanDecisionsServiceFieldEvent | PlanDecisionsDesiredFieldEvent | PlanDecisionsFailingStaticFieldEvent | PlanDecisionsDrainPerReplicaFieldEvent> {
    return streamMessage(buf, Plan.codec(), opts)
  }
}

export interface ServiceSummary {
  service: string
  desired: number
  running: number
  load: number
  unplaced: number
}

export namespace ServiceSummary {
  let _codec: Codec<ServiceSummary>

  export const codec = (): Codec<ServiceSummary> => {
    if (_codec == null) {
      _codec = message<ServiceSummary>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.service != null && obj.service !== '')) {
          w.uint32(10)
          w.string(obj.service)
        }

        if ((obj.desired != null && obj.desired !== 0)) {
          w.uint32(16)
          w.uint32(obj.desired)
        }

        if ((obj.running != null && obj.running !== 0)) {
          w.uint32(24)
          w.uint32(obj.running)
        }

        if ((obj.load != null && obj.load !== 0)) {
          w.uint32(33)
          w.double(obj.load)
        }

        if ((obj.unplaced != null && obj.unplaced !== 0)) {
          w.uint32(40)
          w.uint32(obj.unplaced)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          service: '',
          desired: 0,
          running: 0,
          load: 0,
          unplaced: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.service = reader.string()
              break
            }
            case 2: {
              obj.desired = reader.uint32()
              break
            }
            case 3: {
              obj.running = reader.uint32()
              break
            }
            case 4: {
              obj.load = reader.double()
              break
            }
            case 5: {
              obj.unplaced = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.service`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.desired`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.running`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.load`,
                value: reader.double()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.unplaced`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ServiceSummaryServiceFieldEvent {
    field: '$.service'
    value: string
  }

  export interface ServiceSummaryDesiredFieldEvent {
    field: '$.desired'
    value: number
  }

  export interface ServiceSummaryRunningFieldEvent {
    field: '$.running'
    value: number
  }

  export interface ServiceSummaryLoadFieldEvent {
    field: '$.load'
    value: number
  }

  export interface ServiceSummaryUnplacedFieldEvent {
    field: '$.unplaced'
    value: number
  }

  export function encode (obj: Partial<ServiceSummary>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ServiceSummary.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ServiceSummary>): ServiceSummary {
    return decodeMessage(buf, ServiceSummary.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ServiceSummary>): Generator<ServiceSummaryServiceFieldEvent | ServiceSummaryDesiredFieldEvent | ServiceSummaryRunningFieldEvent | ServiceSummaryLoadFieldEvent | ServiceSummaryUnplacedFieldEvent> {
    return streamMessage(buf, ServiceSummary.codec(), opts)
  }
}

export interface SiteSummary {
  term: number
  hostsAlive: number
  slotsTotal: number
  slotsFree: number
  services: ServiceSummary[]
}

export namespace SiteSummary {
  let _codec: Codec<SiteSummary>

  export const codec = (): Codec<SiteSummary> => {
    if (_codec == null) {
      _codec = message<SiteSummary>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.term)
        }

        if ((obj.hostsAlive != null && obj.hostsAlive !== 0)) {
          w.uint32(16)
          w.uint32(obj.hostsAlive)
        }

        if ((obj.slotsTotal != null && obj.slotsTotal !== 0)) {
          w.uint32(24)
          w.uint32(obj.slotsTotal)
        }

        if ((obj.slotsFree != null && obj.slotsFree !== 0)) {
          w.uint32(32)
          w.uint32(obj.slotsFree)
        }

        if (obj.services != null && obj.services.length > 0) {
          for (const value of obj.services) {
            w.uint32(42)
            ServiceSummary.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          term: 0,
          hostsAlive: 0,
          slotsTotal: 0,
          slotsFree: 0,
          services: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.term = reader.uint64Number()
              break
            }
            case 2: {
              obj.hostsAlive = reader.uint32()
              break
            }
            case 3: {
              obj.slotsTotal = reader.uint32()
              break
            }
            case 4: {
              obj.slotsFree = reader.uint32()
              break
            }
            case 5: {
              if (opts.limits?.services != null && obj.services.length === opts.limits.services) {
                throw new MaxLengthError('Decode error - repeated field "services" had too many elements')
              }

              obj.services.push(ServiceSummary.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.services$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          services: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.hostsAlive`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.slotsTotal`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.slotsFree`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              if (opts.limits?.services != null && obj.services === opts.limits.services) {
                throw new MaxLengthError('Streaming decode error - repeated field "services" had too many elements')
              }

              for (const evt of ServiceSummary.codec().stream(reader, reader.uint32(), `${prefix}.services[]`, {
                limits: opts.limits?.services$
              })) {
                yield {
                  ...evt,
                  index: obj.services
                }
              }

              obj.services++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SiteSummaryTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface SiteSummaryHostsAliveFieldEvent {
    field: '$.hostsAlive'
    value: number
  }

  export interface SiteSummarySlotsTotalFieldEvent {
    field: '$.slotsTotal'
    value: number
  }

  export interface SiteSummarySlotsFreeFieldEvent {
    field: '$.slotsFree'
    value: number
  }

  export interface SiteSummaryServicesServiceFieldEvent {
    field: '$.services[].service'
    value: string
    index: number
  }

  export interface SiteSummaryServicesDesiredFieldEvent {
    field: '$.services[].desired'
    value: number
    index: number
  }

  export interface SiteSummaryServicesRunningFieldEvent {
    field: '$.services[].running'
    value: number
    index: number
  }

  export interface SiteSummaryServicesLoadFieldEvent {
    field: '$.services[].load'
    value: number
    index: number
  }

  export interface SiteSummaryServicesUnplacedFieldEvent {
    field: '$.services[].unplaced'
    value: number
    index: number
  }

  export function encode (obj: Partial<SiteSummary>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SiteSummary.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SiteSummary>): SiteSummary {
    return decodeMessage(buf, SiteSummary.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SiteSummary>): Generator<SiteSummaryTermFieldEvent | SiteSummaryHostsAliveFieldEvent | SiteSummarySlotsTotalFieldEvent | SiteSummarySlotsFreeFieldEvent | SiteSummaryServicesServiceFieldEvent | SiteSummaryServicesDesiredFieldEvent | SiteSummaryServicesRunningFieldEvent | SiteSummaryServicesLoadFieldEvent | SiteSummaryServicesUnplacedFieldEvent> {
    return streamMessage(buf, SiteSummary.codec(), opts)
  }
}

export interface SpillRequest {
  requestId: string
  service: string
  replicas: number
  term: number
  toSite: string
}

export namespace SpillRequest {
  let _codec: Codec<SpillRequest>

  export const codec = (): Codec<SpillRequest> => {
    if (_codec == null) {
      _codec = message<SpillRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.requestId != null && obj.requestId !== '')) {
          w.uint32(10)
          w.string(obj.requestId)
        }

        if ((obj.service != null && obj.service !== '')) {
          w.uint32(18)
          w.string(obj.service)
        }

        if ((obj.replicas != null && obj.replicas !== 0)) {
          w.uint32(24)
          w.uint32(obj.replicas)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.term)
        }

        if ((obj.toSite != null && obj.toSite !== '')) {
          w.uint32(42)
          w.string(obj.toSite)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          requestId: '',
          service: '',
          replicas: 0,
          term: 0,
          toSite: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.requestId = reader.string()
              break
            }
            case 2: {
              obj.service = reader.string()
              break
            }
            case 3: {
              obj.replicas = reader.uint32()
              break
            }
            case 4: {
              obj.term = reader.uint64Number()
              break
            }
            case 5: {
              obj.toSite = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.requestId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.service`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.replicas`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.toSite`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SpillRequestRequestIdFieldEvent {
    field: '$.requestId'
    value: string
  }

  export interface SpillRequestServiceFieldEvent {
    field: '$.service'
    value: string
  }

  export interface SpillRequestReplicasFieldEvent {
    field: '$.replicas'
    value: number
  }

  export interface SpillRequestTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface SpillRequestToSiteFieldEvent {
    field: '$.toSite'
    value: string
  }

  export function encode (obj: Partial<SpillRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SpillRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SpillRequest>): SpillRequest {
    return decodeMessage(buf, SpillRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SpillRequest>): Generator<SpillRequestRequestIdFieldEvent | SpillRequestServiceFieldEvent | SpillRequestReplicasFieldEvent | SpillRequestTermFieldEvent | SpillRequestToSiteFieldEvent> {
    return streamMessage(buf, SpillRequest.codec(), opts)
  }
}

export interface SpillOffer {
  requestId: string
  toSite: string
  service: string
  replicas: number
  term: number
}

export namespace SpillOffer {
  let _codec: Codec<SpillOffer>

  export const codec = (): Codec<SpillOffer> => {
    if (_codec == null) {
      _codec = message<SpillOffer>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.requestId != null && obj.requestId !== '')) {
          w.uint32(10)
          w.string(obj.requestId)
        }

        if ((obj.toSite != null && obj.toSite !== '')) {
          w.uint32(18)
          w.string(obj.toSite)
        }

        if ((obj.service != null && obj.service !== '')) {
          w.uint32(26)
          w.string(obj.service)
        }

        if ((obj.replicas != null && obj.replicas !== 0)) {
          w.uint32(32)
          w.uint32(obj.replicas)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.term)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          requestId: '',
          toSite: '',
          service: '',
          replicas: 0,
          term: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.requestId = reader.string()
              break
            }
            case 2: {
              obj.toSite = reader.string()
              break
            }
            case 3: {
              obj.service = reader.string()
              break
            }
            case 4: {
              obj.replicas = reader.uint32()
              break
            }
            case 5: {
              obj.term = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.requestId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.toSite`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.service`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.replicas`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SpillOfferRequestIdFieldEvent {
    field: '$.requestId'
    value: string
  }

  export interface SpillOfferToSiteFieldEvent {
    field: '$.toSite'
    value: string
  }

  export interface SpillOfferServiceFieldEvent {
    field: '$.service'
    value: string
  }

  export interface SpillOfferReplicasFieldEvent {
    field: '$.replicas'
    value: number
  }

  export interface SpillOfferTermFieldEvent {
    field: '$.term'
    value: number
  }

  export function encode (obj: Partial<SpillOffer>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SpillOffer.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SpillOffer>): SpillOffer {
    return decodeMessage(buf, SpillOffer.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SpillOffer>): Generator<SpillOfferRequestIdFieldEvent | SpillOfferToSiteFieldEvent | SpillOfferServiceFieldEvent | SpillOfferReplicasFieldEvent | SpillOfferTermFieldEvent> {
    return streamMessage(buf, SpillOffer.codec(), opts)
  }
}

export interface DigestMember {
  hostId: string
  incarnation: number
  ageMs: number
  priority: number
}

export namespace DigestMember {
  let _codec: Codec<DigestMember>

  export const codec = (): Codec<DigestMember> => {
    if (_codec == null) {
      _codec = message<DigestMember>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.hostId != null && obj.hostId !== '')) {
          w.uint32(10)
          w.string(obj.hostId)
        }

        if ((obj.incarnation != null && obj.incarnation !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.incarnation)
        }

        if ((obj.ageMs != null && obj.ageMs !== 0)) {
          w.uint32(24)
          w.uint32(obj.ageMs)
        }

        if ((obj.priority != null && obj.priority !== 0)) {
          w.uint32(32)
          w.int32(obj.priority)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          hostId: '',
          incarnation: 0,
          ageMs: 0,
          priority: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.hostId = reader.string()
              break
            }
            case 2: {
              obj.incarnation = reader.uint64Number()
              break
            }
            case 3: {
              obj.ageMs = reader.uint32()
              break
            }
            case 4: {
              obj.priority = reader.int32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.hostId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.incarnation`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.ageMs`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.priority`,
                value: reader.int32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface DigestMemberHostIdFieldEvent {
    field: '$.hostId'
    value: string
  }

  export interface DigestMemberIncarnationFieldEvent {
    field: '$.incarnation'
    value: number
  }

  export interface DigestMemberAgeMsFieldEvent {
    field: '$.ageMs'
    value: number
  }

  export interface DigestMemberPriorityFieldEvent {
    field: '$.priority'
    value: number
  }

  export function encode (obj: Partial<DigestMember>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, DigestMember.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DigestMember>): DigestMember {
    return decodeMessage(buf, DigestMember.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DigestMember>): Generator<DigestMemberHostIdFieldEvent | DigestMemberIncarnationFieldEvent | DigestMemberAgeMsFieldEvent | DigestMemberPriorityFieldEvent> {
    return streamMessage(buf, DigestMember.codec(), opts)
  }
}

export interface SiteDigest {
  term: number
  planVersion: number
  members: DigestMember[]
  leaderAddrs: string[]
}

export namespace SiteDigest {
  let _codec: Codec<SiteDigest>

  export const codec = (): Codec<SiteDigest> => {
    if (_codec == null) {
      _codec = message<SiteDigest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.term)
        }

        if ((obj.planVersion != null && obj.planVersion !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.planVersion)
        }

        if (obj.members != null && obj.members.length > 0) {
          for (const value of obj.members) {
            w.uint32(26)
            DigestMember.codec().encode(value, w)
          }
        }

        if (obj.leaderAddrs != null && obj.leaderAddrs.length > 0) {
          for (const value of obj.leaderAddrs) {
            w.uint32(34)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          term: 0,
          planVersion: 0,
          members: [],
          leaderAddrs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.term = reader.uint64Number()
              break
            }
            case 2: {
              obj.planVersion = reader.uint64Number()
              break
            }
            case 3: {
              if (opts.limits?.members != null && obj.members.length === opts.limits.members) {
                throw new MaxLengthError('Decode error - repeated field "members" had too many elements')
              }

              obj.members.push(DigestMember.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.members$
              }))
              break
            }
            case 4: {
              if (opts.limits?.leaderAddrs != null && obj.leaderAddrs.length === opts.limits.leaderAddrs) {
                throw new MaxLengthError('Decode error - repeated field "leaderAddrs" had too many elements')
              }

              obj.leaderAddrs.push(reader.string())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          members: 0,
          leaderAddrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.planVersion`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              if (opts.limits?.members != null && obj.members === opts.limits.members) {
                throw new MaxLengthError('Streaming decode error - repeated field "members" had too many elements')
              }

              for (const evt of DigestMember.codec().stream(reader, reader.uint32(), `${prefix}.members[]`, {
                limits: opts.limits?.members$
              })) {
                yield {
                  ...evt,
                  index: obj.members
                }
              }

              obj.members++

              break
            }
            case 4: {
              if (opts.limits?.leaderAddrs != null && obj.leaderAddrs === opts.limits.leaderAddrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "leaderAddrs" had too many elements')
              }

              yield {
                field: `${prefix}.leaderAddrs[]`,
                index: obj.leaderAddrs,
                value: reader.string()
              }

              obj.leaderAddrs++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SiteDigestTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface SiteDigestPlanVersionFieldEvent {
    field: '$.planVersion'
    value: number
  }

  export interface SiteDigestMembersHostIdFieldEvent {
    field: '$.members[].hostId'
    value: string
    index: number
  }

  export interface SiteDigestMembersIncarnationFieldEvent {
    field: '$.members[].incarnation'
    value: number
    index: number
  }

  export interface SiteDigestMembersAgeMsFieldEvent {
    field: '$.members[].ageMs'
    value: number
    index: number
  }

  export interface SiteDigestMembersPriorityFieldEvent {
    field: '$.members[].priority'
    value: number
    index: number
  }

  export interface SiteDigestLeaderAddrsFieldEvent {
    field: '$.leaderAddrs[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<SiteDigest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SiteDigest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SiteDigest>): SiteDigest {
    return decodeMessage(buf, SiteDigest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SiteDigest>): Generator<SiteDigestTermFieldEvent | SiteDigestPlanVersionFieldEvent | SiteDigestMembersHostIdFieldEvent | SiteDigestMembersIncarnationFieldEvent | SiteDigestMembersAgeMsFieldEvent | SiteDigestMembersPriorityFieldEvent | SiteDigestLeaderAddrsFieldEvent> {
    return streamMessage(buf, SiteDigest.codec(), opts)
  }
}

export interface Envelope {
  minor: number
  sender: string
  site: string
  incarnation: number
  seq: number
  sentAtMs: number
  heartbeat?: Heartbeat
  voteRequest?: VoteRequest
  vote?: Vote
  leave?: Leave
  plan?: Plan
  siteSummary?: SiteSummary
  spillRequest?: SpillRequest
  spillOffer?: SpillOffer
  siteDigest?: SiteDigest
}

export namespace Envelope {
  let _codec: Codec<Envelope>

  export const codec = (): Codec<Envelope> => {
    if (_codec == null) {
      _codec = message<Envelope>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.minor != null && obj.minor !== 0)) {
          w.uint32(8)
          w.uint32(obj.minor)
        }

        if ((obj.sender != null && obj.sender !== '')) {
          w.uint32(18)
          w.string(obj.sender)
        }

        if ((obj.site != null && obj.site !== '')) {
          w.uint32(26)
          w.string(obj.site)
        }

        if ((obj.incarnation != null && obj.incarnation !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.incarnation)
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.seq)
        }

        if ((obj.sentAtMs != null && obj.sentAtMs !== 0)) {
          w.uint32(48)
          w.uint64Number(obj.sentAtMs)
        }

        if (obj.heartbeat != null) {
          w.uint32(82)
          Heartbeat.codec().encode(obj.heartbeat, w)
        }

        if (obj.voteRequest != null) {
          w.uint32(90)
          VoteRequest.codec().encode(obj.voteRequest, w)
        }

        if (obj.vote != null) {
          w.uint32(98)
          Vote.codec().encode(obj.vote, w)
        }

        if (obj.leave != null) {
          w.uint32(106)
          Leave.codec().encode(obj.leave, w)
        }

        if (obj.plan != null) {
          w.uint32(114)
          Plan.codec().encode(obj.plan, w)
        }

        if (obj.siteSummary != null) {
          w.uint32(122)
          SiteSummary.codec().encode(obj.siteSummary, w)
        }

        if (obj.spillRequest != null) {
          w.uint32(130)
          SpillRequest.codec().encode(obj.spillRequest, w)
        }

        if (obj.spillOffer != null) {
          w.uint32(138)
          SpillOffer.codec().encode(obj.spillOffer, w)
        }

        if (obj.siteDigest != null) {
          w.uint32(146)
          SiteDigest.codec().encode(obj.siteDigest, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          minor: 0,
          sender: '',
          site: '',
          incarnation: 0,
          seq: 0,
          sentAtMs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.minor = reader.uint32()
              break
            }
            case 2: {
              obj.sender = reader.string()
              break
            }
            case 3: {
              obj.site = reader.string()
              break
            }
            case 4: {
              obj.incarnation = reader.uint64Number()
              break
            }
            case 5: {
              obj.seq = reader.uint64Number()
              break
            }
            case 6: {
              obj.sentAtMs = reader.uint64Number()
              break
            }
            case 10: {
              obj.heartbeat = Heartbeat.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.heartbeat
              })
              break
            }
            case 11: {
              obj.voteRequest = VoteRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.voteRequest
              })
              break
            }
            case 12: {
              obj.vote = Vote.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.vote
              })
              break
            }
            case 13: {
              obj.leave = Leave.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.leave
              })
              break
            }
            case 14: {
              obj.plan = Plan.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.plan
              })
              break
            }
            case 15: {
              obj.siteSummary = SiteSummary.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.siteSummary
              })
              break
            }
            case 16: {
              obj.spillRequest = SpillRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.spillRequest
              })
              break
            }
            case 17: {
              obj.spillOffer = SpillOffer.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.spillOffer
              })
              break
            }
            case 18: {
              obj.siteDigest = SiteDigest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.siteDigest
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.minor`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.sender`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.site`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.incarnation`,
                value: reader.uint64Number()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64Number()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.sentAtMs`,
                value: reader.uint64Number()
              }
              break
            }
            case 10: {
              yield * Heartbeat.codec().stream(reader, reader.uint32(), `${prefix}.heartbeat`, {
                limits: opts.limits?.heartbeat
              })

              break
            }
            case 11: {
              yield * VoteRequest.codec().stream(reader, reader.uint32(), `${prefix}.voteRequest`, {
                limits: opts.limits?.voteRequest
              })

              break
            }
            case 12: {
              yield * Vote.codec().stream(reader, reader.uint32(), `${prefix}.vote`, {
                limits: opts.limits?.vote
              })

              break
            }
            case 13: {
              yield * Leave.codec().stream(reader, reader.uint32(), `${prefix}.leave`, {
                limits: opts.limits?.leave
              })

              break
            }
            case 14: {
              yield * Plan.codec().stream(reader, reader.uint32(), `${prefix}.plan`, {
                limits: opts.limits?.plan
              })

              break
            }
            case 15: {
              yield * SiteSummary.codec().stream(reader, reader.uint32(), `${prefix}.siteSummary`, {
                limits: opts.limits?.siteSummary
              })

              break
            }
            case 16: {
              yield * SpillRequest.codec().stream(reader, reader.uint32(), `${prefix}.spillRequest`, {
                limits: opts.limits?.spillRequest
              })

              break
            }
            case 17: {
              yield * SpillOffer.codec().stream(reader, reader.uint32(), `${prefix}.spillOffer`, {
                limits: opts.limits?.spillOffer
              })

              break
            }
            case 18: {
              yield * SiteDigest.codec().stream(reader, reader.uint32(), `${prefix}.siteDigest`, {
                limits: opts.limits?.siteDigest
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface EnvelopeMinorFieldEvent {
    field: '$.minor'
    value: number
  }

  export interface EnvelopeSenderFieldEvent {
    field: '$.sender'
    value: string
  }

  export interface EnvelopeSiteFieldEvent {
    field: '$.site'
    value: string
  }

  export interface EnvelopeIncarnationFieldEvent {
    field: '$.incarnation'
    value: number
  }

  export interface EnvelopeSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export interface EnvelopeSentAtMsFieldEvent {
    field: '$.sentAtMs'
    value: number
  }

  export interface EnvelopeHeartbeatLabelsFieldEvent {
    field: '$.heartbeat.labels{}'
    key: string
    value: string
  }

  export interface EnvelopeHeartbeatCapacitySlotsFieldEvent {
    field: '$.heartbeat.capacity.slots'
    value: number
  }

  export interface EnvelopeHeartbeatCapacityCpuMillisFieldEvent {
    field: '$.heartbeat.capacity.cpuMillis'
    value: number
  }

  export interface EnvelopeHeartbeatCapacityMemoryMibFieldEvent {
    field: '$.heartbeat.capacity.memoryMib'
    value: number
  }

  export interface EnvelopeHeartbeatPriorityFieldEvent {
    field: '$.heartbeat.priority'
    value: number
  }

  export interface EnvelopeHeartbeatRunningServiceFieldEvent {
    field: '$.heartbeat.running[].service'
    value: string
    index: number
  }

  export interface EnvelopeHeartbeatRunningReplicasFieldEvent {
    field: '$.heartbeat.running[].replicas'
    value: number
    index: number
  }

  export interface EnvelopeHeartbeatRunningReadyFieldEvent {
    field: '$.heartbeat.running[].ready'
    value: number
    index: number
  }

  export interface EnvelopeHeartbeatSignalsServiceFieldEvent {
    field: '$.heartbeat.signals[].service'
    value: string
    index: number
  }

  export interface EnvelopeHeartbeatSignalsValueFieldEvent {
    field: '$.heartbeat.signals[].value'
    value: number
    index: number
  }

  export interface EnvelopeHeartbeatSignalsAgeMsFieldEvent {
    field: '$.heartbeat.signals[].ageMs'
    value: number
    index: number
  }

  export interface EnvelopeHeartbeatSignalsUpstreamFieldEvent {
    field: '$.heartbeat.signals[].upstream'
    value: boolean
    index: number
  }

  export interface EnvelopeHeartbeatSignalsSiteWideFieldEvent {
    field: '$.heartbeat.signals[].siteWide'
    value: boolean
    index: number
  }

  export interface EnvelopeHeartbeatSignalsRateFieldEvent {
    field: '$.heartbeat.signals[].rate'
    value: boolean
    index: number
  }

  export interface EnvelopeHeartbeatAddrsFieldEvent {
    field: '$.heartbeat.addrs[]'
    index: number
    value: string
  }

  export interface EnvelopeHeartbeatTermFieldEvent {
    field: '$.heartbeat.term'
    value: number
  }

  export interface EnvelopeHeartbeatLeaderIdFieldEvent {
    field: '$.heartbeat.leaderId'
    value: string
  }

  export interface EnvelopeHeartbeatPlanVersionFieldEvent {
    field: '$.heartbeat.planVersion'
    value: number
  }

  export interface EnvelopeHeartbeatRuntimeOkFieldEvent {
    field: '$.heartbeat.runtimeOk'
    value: boolean
  }

  export interface EnvelopeHeartbeatUnavailableServicesFieldEvent {
    field: '$.heartbeat.unavailableServices[]'
    index: number
    value: string
  }

  export interface EnvelopeVoteRequestTermFieldEvent {
    field: '$.voteRequest.term'
    value: number
  }

  export interface EnvelopeVoteRequestPriorityFieldEvent {
    field: '$.voteRequest.priority'
    value: number
  }

  export interface EnvelopeVoteRequestElectorateFieldEvent {
    field: '$.voteRequest.electorate'
    value: number
  }

  export interface EnvelopeVoteRequestPreVoteFieldEvent {
    field: '$.voteRequest.preVote'
    value: boolean
  }

  export interface EnvelopeVoteRequestRoundMsFieldEvent {
    field: '$.voteRequest.roundMs'
    value: number
  }

  export interface EnvelopeVoteTermFieldEvent {
    field: '$.vote.term'
    value: number
  }

  export interface EnvelopeVoteCandidateIdFieldEvent {
    field: '$.vote.candidateId'
    value: string
  }

  export interface EnvelopeVoteGrantedFieldEvent {
    field: '$.vote.granted'
    value: boolean
  }

  export interface EnvelopeVotePreVoteFieldEvent {
    field: '$.vote.preVote'
    value: boolean
  }

  export interface EnvelopePlanTermFieldEvent {
    field: '$.plan.term'
    value: number
  }

  export interface EnvelopePlanVersionFieldEvent {
    field: '$.plan.version'
    value: number
  }

  export interface EnvelopePlanServicesFieldEvent {
    field: '$.plan.services[]'
    index: number
    value: string
  }

  export interface EnvelopePlanHostsHostIdFieldEvent {
    field: '$.plan.hosts[].hostId'
    value: string
    index: number
  }

  export interface EnvelopePlanHostsReplicasFieldEvent {
    field: '$.plan.hosts[].replicas[]'
    index: number
    value: number
  }

  export interface EnvelopePlanDecisionsServiceFieldEvent {
    field: '$.plan.decisions[].service'
    value: string
    index: number
  }

  export interface EnvelopePlanDecisionsDesiredFieldEvent {
    field: '$.plan.decisions[].desired'
    value: number
    index: number
  }

  export interface EnvelopePlanDecisionsFailingStaticFieldEvent {
    field: '$.plan.decisions[].failingStatic'
    value: boolean
    index: number
  }

  export interface EnvelopePlanDecisionsDrainPerReplicaFieldEvent {
    field: '$.plan.decisions[].drainPerReplica'
    value: number
    index: number
  }

  export interface EnvelopeSiteSummaryTermFieldEvent {
    field: '$.siteSummary.term'
    value: number
  }

  export interface EnvelopeSiteSummaryHostsAliveFieldEvent {
    field: '$.siteSummary.hostsAlive'
    value: number
  }

  export interface EnvelopeSiteSummarySlotsTotalFieldEvent {
    field: '$.siteSummary.slotsTotal'
    value: number
  }

  export interface EnvelopeSiteSummarySlotsFreeFieldEvent {
    field: '$.siteSummary.slotsFree'
    value: number
  }

  export interface EnvelopeSiteSummaryServicesServiceFieldEvent {
    field: '$.siteSummary.services[].service'
    value: string
    index: number
  }

  export interface EnvelopeSiteSummaryServicesDesiredFieldEvent {
    field: '$.siteSummary.services[].desired'
    value: number
    index: number
  }

  export interface EnvelopeSiteSummaryServicesRunningFieldEvent {
    field: '$.siteSummary.services[].running'
    value: number
    index: number
  }

  export interface EnvelopeSiteSummaryServicesLoadFieldEvent {
    field: '$.siteSummary.services[].load'
    value: number
    index: number
  }

  export interface EnvelopeSiteSummaryServicesUnplacedFieldEvent {
    field: '$.siteSummary.services[].unplaced'
    value: number
    index: number
  }

  export interface EnvelopeSpillRequestRequestIdFieldEvent {
    field: '$.spillRequest.requestId'
    value: string
  }

  export interface EnvelopeSpillRequestServiceFieldEvent {
    field: '$.spillRequest.service'
    value: string
  }

  export interface EnvelopeSpillRequestReplicasFieldEvent {
    field: '$.spillRequest.replicas'
    value: number
  }

  export interface EnvelopeSpillRequestTermFieldEvent {
    field: '$.spillRequest.term'
    value: number
  }

  export interface EnvelopeSpillRequestToSiteFieldEvent {
    field: '$.spillRequest.toSite'
    value: string
  }

  export interface EnvelopeSpillOfferRequestIdFieldEvent {
    field: '$.spillOffer.requestId'
    value: string
  }

  export interface EnvelopeSpillOfferToSiteFieldEvent {
    field: '$.spillOffer.toSite'
    value: string
  }

  export interface EnvelopeSpillOfferServiceFieldEvent {
    field: '$.spillOffer.service'
    value: string
  }

  export interface EnvelopeSpillOfferReplicasFieldEvent {
    field: '$.spillOffer.replicas'
    value: number
  }

  export interface EnvelopeSpillOfferTermFieldEvent {
    field: '$.spillOffer.term'
    value: number
  }

  export interface EnvelopeSiteDigestTermFieldEvent {
    field: '$.siteDigest.term'
    value: number
  }

  export interface EnvelopeSiteDigestPlanVersionFieldEvent {
    field: '$.siteDigest.planVersion'
    value: number
  }

  export interface EnvelopeSiteDigestMembersHostIdFieldEvent {
    field: '$.siteDigest.members[].hostId'
    value: string
    index: number
  }

  export interface EnvelopeSiteDigestMembersIncarnationFieldEvent {
    field: '$.siteDigest.members[].incarnation'
    value: number
    index: number
  }

  export interface EnvelopeSiteDigestMembersAgeMsFieldEvent {
    field: '$.siteDigest.members[].ageMs'
    value: number
    index: number
  }

  export interface EnvelopeSiteDigestMembersPriorityFieldEvent {
    field: '$.siteDigest.members[].priority'
    value: number
    index: number
  }

  export interface EnvelopeSiteDigestLeaderAddrsFieldEvent {
    field: '$.siteDigest.leaderAddrs[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<Envelope>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Envelope.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Envelope>): Envelope {
    return decodeMessage(buf, Envelope.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Envelope>): Generator<EnvelopeMinorFieldEvent | EnvelopeSenderFieldEvent | EnvelopeSiteFieldEvent | EnvelopeIncarnationFieldEvent | EnvelopeSeqFieldEvent | EnvelopeSentAtMsFieldEvent | EnvelopeHeartbeatLabelsFieldEvent | EnvelopeHeartbeatCapacitySlotsFieldEvent | EnvelopeHeartbeatCapacityCpuMillisFieldEvent | EnvelopeHeartbeatCapacityMemoryMibFieldEvent | EnvelopeHeartbeatPriorityFieldEvent | EnvelopeHeartbeatRunningServiceFieldEvent | EnvelopeHeartbeatRunningReplicasFieldEvent | EnvelopeHeartbeatRunningReadyFieldEvent | EnvelopeHeartbeatSignalsServiceFieldEvent | EnvelopeHeartbeatSignalsValueFieldEvent | EnvelopeHeartbeatSignalsAgeMsFieldEvent | EnvelopeHeartbeatSignalsUpstreamFieldEvent | EnvelopeHeartbeatSignalsSiteWideFieldEvent | EnvelopeHeartbeatSignalsRateFieldEvent | EnvelopeHeartbeatAddrsFieldEvent | EnvelopeHeartbeatTermFieldEvent | EnvelopeHeartbeatLeaderIdFieldEvent | EnvelopeHeartbeatPlanVersionFieldEvent | EnvelopeHeartbeatRuntimeOkFieldEvent | EnvelopeHeartbeatUnavailableServicesFieldEvent | EnvelopeVoteRequestTermFieldEvent | EnvelopeVoteRequestPriorityFieldEvent | EnvelopeVoteRequestElectorateFieldEvent | EnvelopeVoteRequestPreVoteFieldEvent | EnvelopeVoteRequestRoundMsFieldEvent | EnvelopeVoteTermFieldEvent | EnvelopeVoteCandidateIdFieldEvent | EnvelopeVoteGrantedFieldEvent | EnvelopeVotePreVoteFieldEvent | EnvelopePlanTermFieldEvent | EnvelopePlanVersionFieldEvent | EnvelopePlanServicesFieldEvent | EnvelopePlanHostsHostIdFieldEvent | EnvelopePlanHostsReplicasFieldEvent | EnvelopePlanDecisionsServiceFieldEvent | EnvelopePlanDecisionsDesiredFieldEvent | EnvelopePlanDecisionsFailingStaticFieldEvent | EnvelopePlanDecisionsDrainPerReplicaFieldEvent | EnvelopeSiteSummaryTermFieldEvent | EnvelopeSiteSummaryHostsAliveFieldEvent | EnvelopeSiteSummarySlotsTotalFieldEvent | EnvelopeSiteSummarySlotsFreeFieldEvent | EnvelopeSiteSummaryServicesServiceFieldEvent | EnvelopeSiteSummaryServicesDesiredFieldEvent | EnvelopeSiteSummaryServicesRunningFieldEvent | EnvelopeSiteSummaryServicesLoadFieldEvent | EnvelopeSiteSummaryServicesUnplacedFieldEvent | EnvelopeSpillRequestRequestIdFieldEvent | EnvelopeSpillRequestServiceFieldEvent | EnvelopeSpillRequestReplicasFieldEvent | EnvelopeSpillRequestTermFieldEvent | EnvelopeSpillRequestToSiteFieldEvent | EnvelopeSpillOfferRequestIdFieldEvent | EnvelopeSpillOfferToSiteFieldEvent | EnvelopeSpillOfferServiceFieldEvent | EnvelopeSpillOfferReplicasFieldEvent | EnvelopeSpillOfferTermFieldEvent | EnvelopeSiteDigestTermFieldEvent | EnvelopeSiteDigestPlanVersionFieldEvent | EnvelopeSiteDigestMembersHostIdFieldEvent | EnvelopeSiteDigestMembersIncarnationFieldEvent | EnvelopeSiteDigestMembersAgeMsFieldEvent | EnvelopeSiteDigestMembersPriorityFieldEvent | EnvelopeSiteDigestLeaderAddrsFieldEvent> {
    return streamMessage(buf, Envelope.codec(), opts)
  }
}
