// The cpsync package's programmatic API.

export { definePlugin } from './plugin.js';
export type { ExecFn, ExecOptions, ExecResult, JobContext, JobIdentity, JobOutcome, Plugin, PluginLogger, PluginMeta, SchemaLike } from './plugin.js';
export type { FailureType } from './model/limits.js';
export { startLocalEndpoint } from './emulator/index.js';
export type { LocalEndpoint, LocalEndpointOptions, FaultRule } from './emulator/index.js';
