export { importTarballs } from './import.ts';
export { DEFAULT_BATCH_BYTES, DEFAULT_BATCH_MEMBERS } from './types.ts';
export type { FileReport, ImportOptions, ImportProgress, ImportReport } from './types.ts';
