export { LocalStore } from './local.ts';
export { S3Store } from './s3.ts';
export { readAll } from './read-all.ts';
export { checkKey, resolveRange } from './keys.ts';
export type { ByteRange, ObjectInfo, ObjectStore, PutOptions } from './types.ts';
