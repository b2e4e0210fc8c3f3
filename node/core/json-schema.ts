/**
 * Small builders for JSON Schema (draft-07, what editors' YAML language servers read), used to
 * publish the formats people write (a host's agentmesh.yaml, a simulator scenario) from the
 * tables their readers use. Pure data: no I/O. The readers stay the authority (they also check
 * relations between fields, files and names the schema cannot see); the schema is what an
 * editor can check while one types.
 */

export type JsonSchema = { [k: string]: unknown }

export const JSON_SCHEMA_DRAFT = 'http://json-schema.org/draft-07/schema#'

/** A number in [min, max]; `Number.MIN_VALUE` as min means "above 0". */
export function numberSchema (r: { min?: number, max?: number, int?: boolean }, description?: string): JsonSchema {
  const s: JsonSchema = { type: r.int === true ? 'integer' : 'number' }
  if (r.min === Number.MIN_VALUE) s.exclusiveMinimum = 0
  else if (r.min !== undefined) s.minimum = r.min
  if (r.max !== undefined) s.maximum = r.max
  return withDescription(s, description)
}

/** A closed mapping: unknown keys are refused, as every reader refuses them. */
export function objectSchema (properties: Record<string, JsonSchema>, required: readonly string[] = [], description?: string): JsonSchema {
  const s: JsonSchema = { type: 'object', properties, additionalProperties: false }
  if (required.length > 0) s.required = [...required]
  return withDescription(s, description)
}

export function enumSchema (values: readonly string[], description?: string): JsonSchema {
  return withDescription({ type: 'string', enum: [...values] }, description)
}

/** A mapping of names to scalar values (labels, selectors, env): readers turn numbers and booleans into strings. */
export function scalarMapSchema (description?: string): JsonSchema {
  return withDescription({ type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } }, description)
}

/** A regular expression as a schema pattern (JSON Schema patterns are ECMA 262, as ours are). */
export function patternOf (re: RegExp): string {
  return re.source
}

export function withDescription (s: JsonSchema, description: string | undefined): JsonSchema {
  return description === undefined ? s : { ...s, description }
}
