export { simulateNight, resolveSimulation } from './simulate.ts';
export type { ResolvedSimulation, SimulateOptions } from './simulate.ts';
export { fromFiles, fromSimulation, isSkipped, syncMarker } from './sources.ts';
export type { MessageFormat, OutgoingMessage, SimulationSourceOptions, SkippedInput, SourceItem } from './sources.ts';
export {
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_BATCH_MAX_BYTES,
  DEFAULT_BATCH_MAX_MESSAGES,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_PROGRESS_INTERVAL_MS,
  kafkaFailure,
  publishNight,
} from './publish.ts';
export type { PublishOptions, PublishProgress, PublishReport } from './publish.ts';
export type { LatencySummary } from '../latency.ts';
export { PublishPacer } from './pacing.ts';
export type { PublishPacing } from './pacing.ts';
export { drainSource } from './dry-run.ts';
export type { DryRunReport } from './dry-run.ts';
