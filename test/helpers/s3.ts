import { s3Schema } from '../../src/config/index.ts';
import type { S3Config as S3ConfigType } from '../../src/config/index.ts';
import { S3_CREDENTIALS, S3_ENDPOINT, S3_REGION } from './services.ts';

/** The S3 configuration of the local S3Proxy started by ops/services.sh, for one bucket. */
export function S3Config(bucket: string, prefix = ''): S3ConfigType {
  return s3Schema.parse({
    endpoint: S3_ENDPOINT,
    region: S3_REGION,
    bucket,
    prefix,
    accessKeyId: S3_CREDENTIALS.accessKeyId,
    secretAccessKey: S3_CREDENTIALS.secretAccessKey,
    forcePathStyle: true,
    partSizeBytes: 5 * 1024 * 1024,
  });
}
