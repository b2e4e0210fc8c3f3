/**
 * The signal sources, and one factory from a config entry to a signal, for the daemon's config
 * module: `{ kind: 'mqtt-backlog', service, url, topic, field? … }` and so on.
 */
import type { Logger } from 'pino'
import { createMqttBacklogSignal, createMqttRateSignal, type MqttBacklogInit, type MqttRateInit } from './mqtt-signal.js'
import { createPrometheusSignal, type PrometheusSignalInit } from './prometheus-signal.js'
import { createPushSignal, type PushSignalInit } from './push-signal.js'
import type { ServiceSignal } from './signal-source.js'

export * from './signal-source.js'
export * from './mqtt-signal.js'
export * from './prometheus-signal.js'
export * from './push-signal.js'
export * from './signal-set.js'
export * from './redact.js'

export type SignalConfig =
  | ({ kind: 'mqtt-backlog' } & MqttBacklogInit)
  | ({ kind: 'mqtt-rate' } & MqttRateInit)
  | ({ kind: 'prometheus' } & PrometheusSignalInit)
  | ({ kind: 'push' } & PushSignalInit)

/** Builds one signal; `E_SIGNAL_CONFIG_INVALID` lists every problem of the entry at once. */
export function createSignal (config: SignalConfig, components: { clock?: () => number, log?: Logger } = {}): ServiceSignal {
  switch (config.kind) {
    case 'mqtt-backlog': return createMqttBacklogSignal(config, components)
    case 'mqtt-rate': return createMqttRateSignal(config, components)
    case 'prometheus': return createPrometheusSignal(config, components)
    case 'push': return createPushSignal(config)
  }
}
