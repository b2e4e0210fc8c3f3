/**
 * The OpenAPI 3.1 document of the local HTTP API, served at `GET /v1/openapi.json`. Its
 * schemas are the ones the daemon's responses are typed by (api-schema.ts); the routes and
 * codes are those of http-api.ts.
 */
import { ErrorBody, Health, PlanView, PushSignalsBody, PushSignalsResult, Ready, Sites, Status } from './api-schema.js'

const json = (ref: string, description: string): Record<string, unknown> => ({ description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } })
const error = (description: string): Record<string, unknown> => json('Error', description)
/** Answers any route may give (the Host check, the rate limits, a bug). */
const COMMON = {
  421: error('E_HTTP_HOST_REFUSED: the Host header is not this daemon (DNS rebinding guard; http.allowedHosts)'),
  403: error('E_HTTP_CROSS_SITE: a browser request from another site'),
  429: error('E_HTTP_RATE_LIMITED: too many requests from this connection or address'),
  500: error('E_HTTP_INTERNAL: a bug; logged'),
}

function get (summary: string, ok: Record<string, unknown>, extra: Record<number, unknown> = {}): Record<string, unknown> {
  return { get: { summary, responses: { 200: ok, ...extra, 405: error('E_HTTP_METHOD: use GET (or HEAD)'), ...COMMON } } }
}

export function openApiDocument (version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'agentmesh supervisor local API',
      version,
      description: 'Each supervisor serves this on its own host (127.0.0.1 by default). Reads need no token; mutating routes need `Authorization: Bearer` with http.tokenFile.',
    },
    paths: {
      '/healthz': get('Whether the driver loop runs', json('Health', 'healthy'), { 503: json('Health', 'the driver loop stalled') }),
      '/readyz': get('Whether this host knows its site leader', json('Ready', 'ready'), { 503: json('Ready', 'not ready (no leader yet, stopping, partitioned)') }),
      '/v1/status': get('This host and its view of the site', json('Status', 'status')),
      '/v1/sites': get('This site and every site heard of', json('Sites', 'sites')),
      '/v1/plan': get('The plan in force on this host', json('Plan', 'plan')),
      '/v1/openapi.json': get('This document', { description: 'the OpenAPI document', content: { 'application/json': { schema: { type: 'object' } } } }),
      '/v1/events': get('Server-sent events: peers, elections, leaders, plans, scaling, faults', {
        description: 'a text/event-stream; `Last-Event-ID` (or, on a first connection, the query parameter `lastEventId`) replays the events after it that the history still holds',
        content: { 'text/event-stream': { schema: { type: 'string' } } },
      }, { 503: error('E_HTTP_TOO_MANY_STREAMS: http.maxSseClients streams are open') }),
      '/metrics': get('Prometheus metrics', { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } }),
      '/v1/signals': {
        post: {
          summary: 'Push signal values (signals of kind push)',
          security: [{ bearer: [] }],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/PushSignals' } } } },
          responses: {
            200: json('PushSignalsResult', 'every entry was set'),
            400: error('E_HTTP_BAD_REQUEST: not JSON, or an entry that is not {service, value, upstream?}'),
            401: error('E_HTTP_UNAUTHORIZED: no or wrong bearer token (or no http.tokenFile)'),
            404: error('E_HTTP_NOT_FOUND: no push signal for that service'),
            413: error('E_HTTP_TOO_LARGE: body over http.maxBodyBytes'),
            ...COMMON,
          },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: ErrorBody, Health, Ready, Status, Sites, Plan: PlanView, PushSignals: PushSignalsBody, PushSignalsResult },
    },
  }
}
