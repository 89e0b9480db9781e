export { DeflatePool, sharedDeflatePool } from './deflate-pool.ts';
export type { DeflateJob, DeflatePoolOptions } from './deflate-pool.ts';
export { DEFAULT_BLOCK_BYTES, DEFAULT_GZIP_LEVEL, ParallelGzip } from './parallel-gzip.ts';
export type { ByteSink, GzipSummary, ParallelGzipOptions } from './parallel-gzip.ts';
export { FileSink, streamSink } from './sinks.ts';
export { DEFAULT_MEMBER_MODE, TAR_END_BYTES, TAR_RECORD_BYTES, tarHeader, tarPaddingBytes } from './tar-header.ts';
export { TarGzWriter } from './targz-writer.ts';
export type { TarGzMember, TarGzSummary, TarGzWriterOptions } from './targz-writer.ts';
