/** Secrets from HashiCorp Vault for agents and for the mesh (node-vault): see docs/operations.md, Secrets. */
export * from './agent-secrets.js'
export * from './secret-cache.js'
export * from './tmpfs.js'
export * from './vault-client.js'
export * from './vault-defaults.js'
export * from './vault-errors.js'
export * from './vault-session.js'
