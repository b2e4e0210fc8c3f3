/**
 * MQTT 5 shared subscriptions (`$share/GROUP/FILTER`) for the embedded broker, which aedes lacks
 * (moscajs/aedes#228): each message on FILTER goes to one member of GROUP, in turns, instead of
 * to every subscriber. The test agent subscribes this way so that its replicas split the work.
 *
 * No I/O: the broker calls `rewrite` when a client subscribes (it then subscribes the client to
 * the bare FILTER), `forwardTo` for every (client, message) pair it is about to deliver, and
 * `removeClient` when a client goes. A message is identified by a key the caller gives (aedes's
 * broker id and counter, the same for every copy of one publish).
 */

/** Messages whose chosen member is remembered; older choices are forgotten first. */
export const SHARED_CHOICES_MAX = 4096
/** Groups at most; a subscription past it is refused. */
export const SHARED_GROUPS_MAX = 1024

const SHARE_PREFIX = '$share/'

interface Group {
  filter: string
  /** Client ids, sorted: the turn order does not depend on arrival order. */
  members: string[]
  nextTurn: number
}

/** Splits `$share/GROUP/FILTER`; undefined for any other filter or a malformed one. */
export function parseShared (topic: string): { group: string, filter: string } | undefined {
  if (!topic.startsWith(SHARE_PREFIX)) return undefined
  const rest = topic.slice(SHARE_PREFIX.length)
  const slash = rest.indexOf('/')
  if (slash <= 0 || slash === rest.length - 1) return undefined
  const group = rest.slice(0, slash)
  if (/[+#]/.test(group)) return undefined
  return { group, filter: rest.slice(slash + 1) }
}

/** MQTT topic matching: `+` one level, `#` the rest (not `$` topics for a leading wildcard). */
export function topicMatches (filter: string, topic: string): boolean {
  if ((filter.startsWith('+') || filter.startsWith('#')) && topic.startsWith('$')) return false
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false
  }
  return f.length === t.length
}

export class SharedSubscriptions {
  /** `group \0 filter` → group. */
  private readonly groups = new Map<string, Group>()
  /** client id → keys of the groups it is in. */
  private readonly byClient = new Map<string, Set<string>>()
  /** `message key \0 group key` → chosen client id. */
  private readonly choices = new Map<string, string>()
  refusedCount = 0

  /**
   * A client subscribes to `topic`. Returns the filter to subscribe it to for real: the bare
   * filter of a shared subscription, `topic` itself otherwise; undefined when refused.
   */
  rewrite (clientId: string, topic: string): string | undefined {
    const shared = parseShared(topic)
    if (shared === undefined) return topic
    const key = `${shared.group}\0${shared.filter}`
    let g = this.groups.get(key)
    if (g === undefined) {
      if (this.groups.size >= SHARED_GROUPS_MAX) { this.refusedCount++; return undefined }
      g = { filter: shared.filter, members: [], nextTurn: 0 }
      this.groups.set(key, g)
    }
    if (!g.members.includes(clientId)) {
      g.members.push(clientId)
      g.members.sort()
    }
    let keys = this.byClient.get(clientId)
    if (keys === undefined) { keys = new Set(); this.byClient.set(clientId, keys) }
    keys.add(key)
    return shared.filter
  }

  removeClient (clientId: string): void {
    for (const key of this.byClient.get(clientId) ?? []) {
      const g = this.groups.get(key)
      if (g === undefined) continue
      g.members = g.members.filter(m => m !== clientId)
      if (g.members.length === 0) this.groups.delete(key)
    }
    this.byClient.delete(clientId)
  }

  /**
   * Whether the copy of message `messageKey` (on `topic`) for `clientId` is delivered. A client
   * in no matching group gets everything, as with a plain subscription.
   */
  forwardTo (clientId: string, topic: string, messageKey: string): boolean {
    const keys = this.byClient.get(clientId)
    if (keys === undefined) return true
    let inMatchingGroup = false
    for (const key of keys) {
      const g = this.groups.get(key)
      if (g === undefined || !topicMatches(g.filter, topic)) continue
      inMatchingGroup = true
      if (this.choose(g, `${messageKey}\0${key}`) === clientId) return true
    }
    // In a matching group but not its choice: withheld. (A client that also holds a plain
    // subscription to the same filter is not a case here: aedes keeps one per filter and client.)
    return !inMatchingGroup
  }

  private choose (g: Group, choiceKey: string): string {
    const known = this.choices.get(choiceKey)
    if (known !== undefined) return known
    const chosen = g.members[g.nextTurn % g.members.length]
    g.nextTurn = (g.nextTurn + 1) % Number.MAX_SAFE_INTEGER
    this.choices.set(choiceKey, chosen)
    if (this.choices.size > SHARED_CHOICES_MAX) this.choices.delete(this.choices.keys().next().value as string)
    return chosen
  }
}
