/**
 * Golden transcripts of one core (etcd raft's style): a script feeds inputs at given times,
 * every input and every output is rendered as one line, and the text must equal the file
 * checked in under test/core/golden/. Run with UPDATE_GOLDEN=1 to rewrite the files after an
 * intended change, then read the diff.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { PROTOCOL_MINOR, type Body, type Heartbeat, type Message } from '../../protocol/index.js'
import type { CoreInput, CoreOutput } from '../../node/core/core-io.js'
import { SupervisorCore, type CoreInit } from '../../node/core/supervisor-core.js'

const GOLDEN_DIR = fileURLToPath(new URL('../../../test/core/golden/', import.meta.url))

export class Transcript {
  readonly core: SupervisorCore
  private readonly lines: string[] = []
  private readonly seqs = new Map<string, number>()

  constructor (init: CoreInit) {
    this.core = new SupervisorCore(init)
    this.lines.push(`# ${init.hostId} in site ${init.site}, priority ${init.priority}, services ${init.services.map(s => s.name).join(',') || '-'}`)
  }

  note (text: string): void {
    this.lines.push(`# ${text}`)
  }

  input (atMs: number, input: CoreInput): void {
    this.lines.push(`${String(atMs).padStart(6)} > ${renderInput(input)}`)
    this.core.handle(input, atMs)
    for (const out of this.core.drainOutputs()) this.lines.push(`${' '.repeat(6)} < ${renderOutput(out)}`)
  }

  /** Ticks at every deadline the core asks for, up to and including `untilMs`. */
  tickUntil (untilMs: number): void {
    for (;;) {
      const at = this.core.nextDeadlineMs()
      if (at > untilMs) return
      this.input(at, { type: 'tick' })
    }
  }

  from (sender: string, atMs: number, body: Body, incarnation = 1): void {
    const seq = (this.seqs.get(sender) ?? 0) + 1
    this.seqs.set(sender, seq)
    const message: Message = { minor: PROTOCOL_MINOR, sender, site: this.core.site, incarnation, seq, sentAtMs: atMs, body }
    this.input(atMs, { type: 'message', message })
  }

  digest (sender: string, atMs: number, term: number, members: Array<[hostId: string, ageMs: number]>, incarnation = 1): void {
    this.from(sender, atMs, {
      kind: 'siteDigest',
      siteDigest: { term, planVersion: 0, members: members.map(([hostId, ageMs]) => ({ hostId, incarnation: 1, ageMs, priority: 0 })), leaderAddrs: [] },
    }, incarnation)
  }

  heartbeat (sender: string, atMs: number, fields: Partial<Heartbeat> = {}): void {
    this.from(sender, atMs, {
      kind: 'heartbeat',
      heartbeat: {
        labels: new Map(), capacity: { slots: 4, cpuMillis: 4000, memoryMib: 4096 }, priority: 0, running: [], signals: [],
        addrs: [], term: this.core.currentTerm, leaderId: '', planVersion: 0, runtimeOk: true, ...fields,
      },
    })
  }

  text (): string {
    return this.lines.join('\n') + '\n'
  }

  /** Compares with the golden file, or writes it when UPDATE_GOLDEN=1. */
  check (name: string): void {
    const path = `${GOLDEN_DIR}${name}.txt`
    if (process.env.UPDATE_GOLDEN === '1') { writeFileSync(path, this.text()); return }
    assert.ok(existsSync(path), `golden transcript ${path} is missing; run with UPDATE_GOLDEN=1 to create it`)
    assert.equal(this.text(), readFileSync(path, 'utf8'))
  }
}

function renderInput (input: CoreInput): string {
  switch (input.type) {
    case 'tick': return 'tick'
    case 'message': return `recv ${input.message.sender} ${renderBody(input.message.body)}`
    case 'disconnected': return `disconnected ${input.hostId}`
    case 'reachable': return 'reachable'
    case 'samples': return `samples slots=${input.capacity.slots} ${input.signals.map(s => `${s.upstream ? '^' : ''}${s.service}=${s.value}@${s.ageMs}ms`).join(' ')}`
    case 'observed': return `observed runtime=${input.runtimeOk ? 'ok' : 'down'} [${input.containers.map(c => `${c.id}:${c.state}`).join(' ')}]`
    case 'leave': return 'leave'
  }
}

function renderBody (b: Body): string {
  switch (b.kind) {
    case 'heartbeat': {
      const h = b.heartbeat
      const running = h.running.map(r => `${r.service}=${r.replicas}`).join(',')
      return `heartbeat term=${h.term} leader=${h.leaderId || '-'} plan=${h.planVersion} running=[${running}] signals=[${h.signals.map(s => `${s.service}=${s.value}`).join(',')}]`
    }
    case 'voteRequest': return `voteRequest term=${b.voteRequest.term} pre=${b.voteRequest.preVote} electorate=${b.voteRequest.electorate}${b.voteRequest.roundMs === undefined ? '' : ` round=${b.voteRequest.roundMs}ms`}`
    case 'vote': return `vote for=${b.vote.candidateId} term=${b.vote.term} granted=${b.vote.granted} pre=${b.vote.preVote}`
    case 'leave': return 'leave'
    case 'plan': {
      const p = b.plan
      const hosts = p.hosts.map(h => `${h.hostId}:${h.replicas.join('/')}`).join(' ')
      const decisions = p.decisions.map(d => `${d.service}=${d.desired}${d.failingStatic ? '(static)' : ''}`).join(',')
      return `plan term=${p.term} v=${p.version} services=${p.services.join('/')} [${hosts}] desired=[${decisions}]`
    }
    case 'siteSummary': {
      const s = b.siteSummary
      return `siteSummary term=${s.term} alive=${s.hostsAlive} slots=${s.slotsFree}/${s.slotsTotal} ${s.services.map(v => `${v.service}=${v.running}/${v.desired}+${v.unplaced}@${v.load}`).join(',')}`
    }
    case 'spillRequest': return `spillRequest ${b.spillRequest.service}=${b.spillRequest.replicas}`
    case 'spillOffer': return `spillOffer ${b.spillOffer.service}=${b.spillOffer.replicas} to=${b.spillOffer.toSite}`
    case 'siteDigest': {
      const d = b.siteDigest
      return `siteDigest term=${d.term} plan=${d.planVersion} [${d.members.map(m => `${m.hostId}#${m.incarnation}@${m.ageMs}ms`).join(' ')}]`
    }
  }
}

function renderOutput (out: CoreOutput): string {
  switch (out.type) {
    case 'publish': return `publish ${out.topic}${out.to === undefined ? '' : `>${out.to}`} ${renderBody(out.message.body)}`
    case 'action': {
      const a = out.action
      return a.type === 'start' ? `action start ${a.service} term=${a.term}` : `action ${a.type} ${a.service} ${a.containerId}`
    }
    case 'persist': return `persist term=${out.state.term} voted=${out.state.votedFor || '-'} members=${out.state.members.join(',')}`
    case 'observe': return 'observe'
    case 'event': {
      const { kind, ...rest } = out.event
      const fields = Object.entries(kind === 'peer-state' ? (rest as { change: object }).change : rest)
        .map(([k, v]) => `${k}=${String(v)}`).join(' ')
      return `event ${kind} ${fields}`
    }
  }
}
