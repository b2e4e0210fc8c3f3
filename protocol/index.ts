export * from './codec.js'
export * from './errors.js'
export * from './limits.js'
export * from './gossip-defaults.js'
