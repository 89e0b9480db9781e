export { Mirror } from './mirror/mirror.ts';
export type { MirrorStats } from './mirror/mirror.ts';
export { MIRROR_DEFAULTS, resolveMirrorOptions } from './mirror/options.ts';
export type { MirrorOptions } from './mirror/options.ts';
export { ArchiveIngest } from './archive/ingest.ts';
export type { ArchiveIngestStats } from './archive/ingest.ts';
export { ARCHIVE_INGEST_DEFAULTS } from './archive/options.ts';
export type { ArchiveIngestOptions } from './archive/options.ts';
