/**
 * The JSON Schema of a service block (`services[]`), built from the tables the shared reader
 * (service-spec-reader.ts) checks against, so the two cannot drift: the same keys, ranges,
 * enumerations and name pattern. Each shell adds its own fields (the daemon's `agent` and
 * `secrets`, the simulator's `drainPerReplica`, `sla`, `sites`), as it does for the reader.
 */
import { PROTOCOL_LIMITS } from '../../protocol/index.js'
import { FORECAST_LIMITS } from './forecast-limits.js'
import { enumSchema, numberSchema, objectSchema, scalarMapSchema, withDescription, type JsonSchema } from './json-schema.js'
import {
  DURATION_RE, FORECAST_KEYS, POLICY_KEYS, POLICY_KINDS, RATE_KEYS, POLICY_TYPES, RULE_KEYS, SELECT_POLICIES, SERVICE_DURATION_MS_MAX, SERVICE_NAME_RE, SERVICE_NUMBERS,
  SERVICE_SPEC_FIELDS, SERVICE_SPEC_KEYS, UPSTREAM_KEYS,
} from './service-spec-reader.js'

/** Whole ms, or a string with a unit (the reader trims it), at most a week in ms. */
export function serviceDurationSchema (description?: string): JsonSchema {
  return withDescription({
    anyOf: [
      { type: 'integer', minimum: 0, maximum: SERVICE_DURATION_MS_MAX },
      { type: 'string', pattern: `^\\s*${DURATION_RE.source.slice(1, -1)}\\s*$` },
    ],
  }, description)
}

export function serviceNameSchema (description?: string): JsonSchema {
  return withDescription({ type: 'string', pattern: SERVICE_NAME_RE.source, maxLength: PROTOCOL_LIMITS.maxIdBytes }, description)
}

function rulesSchema (description: string): JsonSchema {
  const props: Record<(typeof RULE_KEYS)[number], JsonSchema> = {
    stabilizationMs: serviceDurationSchema(),
    policies: {
      type: 'array',
      items: objectSchema(Object.fromEntries(POLICY_KEYS.map(k => [k, {
        type: enumSchema(POLICY_TYPES),
        value: { type: 'number', exclusiveMinimum: 0 },
        periodMs: serviceDurationSchema(),
      }[k]])), POLICY_KEYS),
    },
    selectPolicy: enumSchema(SELECT_POLICIES),
  }
  return objectSchema(props, [], description)
}

/** The schema of one service; `extra` holds the shell's own fields. */
export function serviceSpecSchema (extra: Record<string, JsonSchema> = {}): JsonSchema {
  const doc = (k: string): string | undefined => SERVICE_SPEC_FIELDS.find(f => f.path === k)?.doc
  const props: Record<(typeof SERVICE_SPEC_KEYS)[number], JsonSchema> = {
    name: serviceNameSchema(doc('name')),
    policy: enumSchema(POLICY_KINDS, doc('policy')),
    spill: { type: 'boolean', description: doc('spill') },
    targetPerReplica: numberSchema(SERVICE_NUMBERS.targetPerReplica, doc('targetPerReplica')),
    minReplicas: numberSchema(SERVICE_NUMBERS.minReplicas, doc('minReplicas')),
    maxReplicas: numberSchema(SERVICE_NUMBERS.maxReplicas, doc('maxReplicas')),
    tolerance: numberSchema(SERVICE_NUMBERS.tolerance, doc('tolerance')),
    activationThreshold: numberSchema(SERVICE_NUMBERS.activationThreshold, doc('activationThreshold')),
    selector: scalarMapSchema(doc('selector')),
    slotsPerReplica: numberSchema(SERVICE_NUMBERS.slotsPerReplica, doc('slotsPerReplica')),
    upstream: objectSchema(Object.fromEntries(UPSTREAM_KEYS.map(k => [k, {
      name: { type: 'string', pattern: SERVICE_NAME_RE.source, description: doc('upstream.name') },
      saturatedAt: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: doc('upstream.saturatedAt') },
    }[k]])), ['name']),
    scaleUp: rulesSchema('Like the HPA\'s behavior.scaleUp: stabilizationMs, policies, selectPolicy.'),
    scaleDown: rulesSchema('Like the HPA\'s behavior.scaleDown: stabilizationMs, policies, selectPolicy.'),
    rate: objectSchema(Object.fromEntries(RATE_KEYS.map(k => [k, withDescription({
      drainPerReplica: { type: 'number', exclusiveMinimum: 0, maximum: 1e12 },
      utilization: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
      // drainWithinMs and idleHalfLifeMs must be above zero; the reader says so (a schema
      // cannot tell a duration string of zero from another).
    }[k as 'drainPerReplica' | 'utilization'] ?? serviceDurationSchema(), doc(`rate.${k}`))])), [], 'The rate policy\'s settings.'),
    forecast: objectSchema(Object.fromEntries(FORECAST_KEYS.map(k => [k, {
      model: { type: 'string', minLength: 1, description: 'builtin, or a path to an .onnx file (docs/forecast.md)' },
      step: { anyOf: [{ type: 'integer', minimum: FORECAST_LIMITS.stepMsMin, maximum: FORECAST_LIMITS.stepMsMax }, { type: 'string', pattern: `^\\s*${DURATION_RE.source.slice(1, -1)}\\s*$` }], description: 'the step the model was trained on' },
      peakMultipleMax: { type: 'number', minimum: 1, maximum: FORECAST_LIMITS.peakMultipleMaxMax, description: 'a forecast above this multiple of the recent peak is ignored' },
    }[k]])), [], 'A load forecast run by the site leader (docs/forecast.md).'),
  }
  return objectSchema({ ...props, ...extra }, ['name'])
}
