/** The container runtimes and the driver the daemon plugs in (see runtime-driver.ts). */
export * from './container-runtime.js'
export * from './docker-runtime.js'
export * from './process-runtime.js'
export * from './runtime-driver.js'
