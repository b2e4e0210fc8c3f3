/**
 * The demo's live table, redrawn in a real terminal: `agentmesh demo` runs inside tmux (a
 * pseudo-terminal with a known size) and the screen is read back with `tmux capture-pane`.
 * However often the table is redrawn, its header row is on the screen once: before the fix the
 * writer went up one row too few on every redraw (the demo's line writer adds the newline the
 * writer also added), and at 160×50 the screen filled with header rows. At 80 columns the 
 * table's rows wrap, so the writer must count screen rows, not lines. Ctrl-C then stops the
 * demo as it would for a person: it says so, with nothing left behind.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { after, describe, it } from 'node:test'
import { waitFor } from '../daemon/harness.js'

const CLI = fileURLToPath(new URL('../../../dist/cli/agentmesh.js', import.meta.url))
/** The table's header row, as it starts on the screen at any width. */
const TABLE_HEADER = /^SITE\s+LEADER\s+TERM/
/** The footer under the table, with the seconds since start. */
const FOOTER = /^(\d+) s · /
/** Redraws (one a second) to see before the screen is judged. */
const REDRAWS_MIN = 6

function tmux (...args: string[]): string {
  return execFileSync('tmux', args, { encoding: 'utf8', timeout: 10_000 })
}

describe('the demo table in a real terminal', { timeout: 3 * 60_000 }, () => {
  const sessions: string[] = []
  after(() => {
    for (const s of sessions) { try { tmux('kill-session', '-t', s) } catch { /* ended by itself */ } }
  })

  for (const [columns, rows] of [[160, 50], [80, 50]]) {
    it(`is redrawn in place at ${columns}×${rows}: one header row however many redraws`, async () => {
      const session = `amdemo-${randomBytes(3).toString('hex')}`
      sessions.push(session)
      // The pane stays after the demo exits (remain-on-exit), so its last screen can be read.
      tmux('new-session', '-d', '-s', session, '-x', String(columns), '-y', String(rows),
        `${process.execPath} ${CLI} demo --runtime process --duration 40 --cycle 20`)
      tmux('set-option', '-t', session, 'remain-on-exit', 'on')
      const screen = await waitFor(`${REDRAWS_MIN} redraws of the table`, () => {
        const text = tmux('capture-pane', '-t', session, '-p')
        const footer = text.split('\n').map(l => FOOTER.exec(l)).find(m => m !== null)
        return footer !== undefined && footer !== null && Number(footer[1]) >= REDRAWS_MIN ? text : undefined
      }, 90_000, 250)
      const lines = screen.split('\n')
      assert.equal(lines.filter(l => TABLE_HEADER.test(l)).length, 1, `the header row once:\n${screen}`)
      assert.equal(lines.filter(l => FOOTER.test(l)).length, 1, `the footer once:\n${screen}`)
      tmux('send-keys', '-t', session, 'C-c')
      await waitFor('the demo to stop after Ctrl-C', () => tmux('display-message', '-p', '-t', session, '#{pane_dead}').trim() === '1' || undefined, 60_000, 250)
      const last = tmux('capture-pane', '-t', session, '-p', '-J', '-S', '-200')
      assert.match(last, /stopped \(SIGINT\).* 0 left/, `the demo stops cleanly:\n${last}`)
    })
  }
})
