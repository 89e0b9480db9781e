export { clusterSchema, configSchema, replaySchema, s3Schema } from './schema.ts';
export type { ClusterConfig, ReplayConfig, S3Config, ZadsConfig } from './schema.ts';
export { ENV_KEYS, loadConfig } from './load.ts';
export type { LoadConfigOptions } from './load.ts';
