export { Mirror } from './mirror/mirror.ts';
export type { MirrorStats } from './mirror/mirror.ts';
export { DEFAULT_MIRROR_TOPICS, resolveMirrorOptions } from './mirror/options.ts';
export type { MirrorOptions } from './mirror/options.ts';
export { ArchiveIngest } from './archive/ingest.ts';
export type { ArchiveIngestStats } from './archive/ingest.ts';
export type { ArchiveIngestOptions } from './archive/options.ts';
