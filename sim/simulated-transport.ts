/**
 * One host's end of the simulated network: the same port as the daemon's libp2p Mesh
 * (`Transport`, node/core/ports.ts), passing the same contract suite (test/contracts/).
 *
 * Publishing hands the message to the network model the simulation chose (gossipsub over a
 * site mesh in simulation.ts, a uniform delay in site-sim.ts); the model calls `receive` on each
 * receiver when its copy arrives (simulation.ts calls the driver itself while the driver is the
 * only listener: see the constructor). The model decides who hears what, so dial hints have
 * nothing to do here: `noteHost` and `forgetHost` are accepted and ignored (the simulated mesh
 * is built from the hosts that run, not from addresses).
 */
import type { Message } from '../protocol/index.js'
import type { Topic } from '../node/core/core-io.js'
import type { MessageListener, Transport } from '../node/core/ports.js'

/** Sends one publish of `hostIdx` into the simulated network. */
export type SimulatedSend = (topic: Topic, message: Message, to?: string) => void

/** Told how many listeners the transport has, whenever that changes. */
export type ListenersChanged = (count: number) => void

export class SimulatedTransport implements Transport {
  private readonly listeners: MessageListener[] = []

  /**
   * `listenersChanged`: simulation.ts hands a copy to the host's driver itself while the
   * driver's listener is the only one (deliverTo), and through receive() once anyone else
   * listens (the transport contract's tests do).
   */
  constructor (private readonly send: SimulatedSend, private readonly listenersChanged?: ListenersChanged) {}

  publish (topic: Topic, message: Message, to?: string): void {
    this.send(topic, message, to)
  }

  onMessage (listener: MessageListener): () => void {
    this.listeners.push(listener)
    this.listenersChanged?.(this.listeners.length)
    return () => {
      const i = this.listeners.indexOf(listener)
      if (i < 0) return
      this.listeners.splice(i, 1)
      this.listenersChanged?.(this.listeners.length)
    }
  }

  noteHost (): void {}

  forgetHost (): void {}

  /** The network model delivers one copy to this host. */
  receive (topic: Topic, message: Message): void {
    const ls = this.listeners
    // The simulator's hottest call: one listener (the driver's) is the rule, called directly.
    if (ls.length === 1) { ls[0](topic, message); return }
    for (let i = 0; i < ls.length; i++) ls[i](topic, message)
  }
}
