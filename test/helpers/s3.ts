import { s3Schema } from '../../src/config/index.ts';
import type { S3Config as S3ConfigType } from '../../src/config/index.ts';
import { S3_CREDENTIALS, S3_ENDPOINT, S3_REGION } from './services.ts';

/** The S3 configuration of the local S3Proxy started by ops/services.sh, for one bucket. */
export function S3Config(bucket: string, prefix = ''): S3ConfigType {
  return s3ConfigAt(S3_ENDPOINT, S3_REGION, bucket, prefix);
}

/** A validated S3 configuration for one bucket of an S3Proxy: path-style, the test credentials, 5 MiB parts. */
export function s3ConfigAt(endpoint: string, region: string, bucket: string, prefix = ''): S3ConfigType {
  return s3Schema.parse({
    endpoint,
    region,
    bucket,
    prefix,
    accessKeyId: S3_CREDENTIALS.accessKeyId,
    secretAccessKey: S3_CREDENTIALS.secretAccessKey,
    forcePathStyle: true,
    partSizeBytes: 5 * 1024 * 1024,
  });
}
