/**
 * Whether a host's load signals rose enough since it last told the site to be worth telling it
 * now rather than at the next heartbeat: a backlog or arrival rate that went from zero to above
 * zero, or grew by more than RISE_FRACTION. Falls wait for the heartbeat (scale-down is held
 * anyway). Upstream saturations are not load and never count.
 */
import type { SignalSample } from '../../protocol/index.js'

/** A load sample this much above the last one told counts as a rise. */
export const RISE_FRACTION = 0.25

export function loadRose (told: readonly SignalSample[], now: readonly SignalSample[]): boolean {
  for (const s of now) {
    if (s.upstream || !(s.value > 0)) continue
    const before = told.find(t => t.service === s.service && !t.upstream && (t.rate === true) === (s.rate === true) && (t.siteWide === true) === (s.siteWide === true))
    if (before === undefined || s.value > before.value * (1 + RISE_FRACTION)) return true
  }
  return false
}
