export * from './storage/index.ts';
export * from './catalogue/index.ts';
export { alertRow } from './catalogue/rows.ts';
export type { AlertLocation } from './catalogue/rows.ts';
export { SegmentFiles } from './segments.ts';
export * from './layout.ts';
export { openArchive } from './archive.ts';
export type { Archive, OpenArchiveOptions } from './archive.ts';
