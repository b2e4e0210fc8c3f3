/**
 * One line-aware YAML reader for every file a person writes: a host's agentmesh.yaml
 * (node/daemon/config.ts) and a simulator scenario (sim/scenario-parse.ts). It parses text
 * (no I/O: the caller reads the file), refuses duplicate keys, and turns a path into the
 * `file:line:column` of the node that holds it (or of its nearest ancestor present in the
 * file), so both readers report problems as `file:line:column field: message`.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml'

export class YamlSource {
  /** Syntax errors, each `file:line:column message`; empty when the text parsed. */
  readonly errors: string[]
  private readonly doc: Document
  private readonly lines = new LineCounter()

  constructor (text: string, readonly file: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false })
    this.errors = this.doc.errors.map(e => `${this.position(e.pos[0])} ${e.message.split('\n')[0]}`)
  }

  /** Whether the top level is a mapping (an empty file counts as one). */
  get isMapping (): boolean {
    return this.doc.contents === null || isMap(this.doc.contents)
  }

  /** The document as plain values (undefined for an empty file). */
  toJS (): unknown {
    return this.doc.toJS() ?? undefined
  }

  /** `file:line:column` of the node at `path`, or of its nearest ancestor in the file. */
  where (path: ReadonlyArray<string | number>): string {
    for (let p = [...path]; ; p = p.slice(0, -1)) {
      const node = p.length === 0 ? this.doc.contents : this.doc.getIn(p, true)
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range
      if (range !== undefined && (isMap(node) || isSeq(node) || isScalar(node))) return this.position(range[0])
      if (p.length === 0) return this.file
    }
  }

  private position (offset: number): string {
    const pos = this.lines.linePos(offset)
    return `${this.file}:${pos.line}:${pos.col}`
  }
}
