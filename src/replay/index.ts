export { Replay } from './replay.ts';
export type { ReplayReport, LatencySummary } from './measure.ts';
export { defaultReplayTopic } from './options.ts';
export type { Pacing, ReplayOptions, ReplaySelection } from './options.ts';
export { Pacer } from './pacer.ts';
export { jdToMs } from './source.ts';
export { DEFAULT_FILTER_WINDOW, ReplayFilterCounts, archivedAlerts, filteredAlerts } from './filtered-source.ts';
export type { ReplayFilterReport, SourcedAlert } from './filtered-source.ts';
