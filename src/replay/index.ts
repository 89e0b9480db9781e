export { Replay } from './replay.ts';
export type { ReplayReport, LatencySummary } from './measure.ts';
export { defaultReplayTopic } from './options.ts';
export type { Pacing, ReplayOptions, ReplaySelection } from './options.ts';
export { Pacer } from './pacer.ts';
export { jdToMs } from './source.ts';
