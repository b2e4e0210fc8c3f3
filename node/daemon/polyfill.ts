/**
 * libp2p 3 calls `Promise.withResolvers`, which Node.js has only from version 22. On Node 20 a
 * node crashes on start or stop without it. Import this module before anything that loads
 * libp2p (ESM evaluates imports in order, depth first).
 */
interface Resolvers<T> { promise: Promise<T>, resolve: (v: T | PromiseLike<T>) => void, reject: (e?: unknown) => void }

const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> }
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function withResolvers<T> (): Resolvers<T> {
    let resolve!: Resolvers<T>['resolve']
    let reject!: Resolvers<T>['reject']
    const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

export {}
