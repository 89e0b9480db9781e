import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import type { S3Config } from '../../config/index.ts';
import { ZadsError } from '../../errors.ts';
import { checkKey, resolveRange } from './keys.ts';
import type { ByteRange, ObjectInfo, ObjectStore, PutOptions } from './types.ts';

/** S3's answer when the bucket itself is missing (a 404 too, but not about the object). */
function isNoBucket(err: unknown): boolean {
  return (err as { name?: string }).name === 'NoSuchBucket';
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  if (isNoBucket(err)) return false;
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/** Network-level failures (refused, reset, timed out) are retriable; S3's own refusals are not. */
function s3Error(err: unknown, action: string, key: string, where: string): ZadsError {
  if (err instanceof ZadsError) return err;
  if (isNoBucket(err)) {
    const bucket = where.replace(/^s3:\/\//, '').split('/')[0]!;
    return new ZadsError(
      'CONFIG_INVALID',
      `S3 bucket ${bucket} does not exist (${where}): create it (e.g. \`aws s3 mb s3://${bucket}\`, with --endpoint-url for a store other than AWS) or set s3.bucket in the config to one that exists`,
      { cause: err, context: { key: 's3.bucket', bucket } },
    );
  }
  if (isNotFound(err)) return new ZadsError('STORAGE_NOT_FOUND', `no object ${key} in ${where}`, { cause: err, context: { key } });
  if (err instanceof S3ServiceException) {
    const status = err.$metadata.httpStatusCode ?? 0;
    return new ZadsError(status >= 500 ? 'SERVICE_UNAVAILABLE' : 'STORAGE_IO', `S3 refused to ${action} ${key} in ${where}: ${err.name} ${err.message}`, {
      cause: err,
      context: { key, httpStatus: status },
    });
  }
  return new ZadsError('SERVICE_UNAVAILABLE', `cannot reach S3 to ${action} ${key} in ${where}: ${(err as Error).message}`, {
    cause: err,
    context: { key },
  });
}

/**
 * Objects in an S3 bucket under a key prefix. Puts are multipart uploads (part size from config) with
 * CRC32 checksums checked by the server; gets are streamed, with HTTP range requests for byte ranges.
 */
export class S3Store implements ObjectStore {
  readonly name: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #partSizeBytes: number;

  constructor(config: S3Config) {
    this.#bucket = config.bucket;
    this.#prefix = config.prefix;
    this.#partSizeBytes = config.partSizeBytes;
    this.name = `s3://${config.bucket}/${config.prefix}`;
    this.#client = new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: config.forcePathStyle,
      // Without these a store that accepts the connection and then hangs would block an upload (and the
      // closes queued behind it) for ever; an idle socket, not a long transfer, is what times out.
      requestHandler: { connectionTimeout: config.connectionTimeoutMs, socketTimeout: config.socketIdleTimeoutMs },
      ...(config.accessKeyId && config.secretAccessKey
        ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }
        : {}),
    });
  }

  /** The underlying client, for bucket administration. */
  get client(): S3Client {
    return this.#client;
  }

  #key(key: string): string {
    return this.#prefix + checkKey(key);
  }

  async put(key: string, body: Buffer | Readable, options: PutOptions = {}): Promise<ObjectInfo> {
    const upload = new Upload({
      client: this.#client,
      partSize: this.#partSizeBytes,
      queueSize: 2,
      leavePartsOnError: false,
      params: {
        Bucket: this.#bucket,
        Key: this.#key(key),
        Body: body,
        ContentType: options.contentType ?? 'application/octet-stream',
        ChecksumAlgorithm: 'CRC32',
      },
    });
    try {
      await upload.done();
    } catch (err) {
      throw s3Error(err, 'upload', key, this.name);
    }
    const info = await this.head(key);
    if (!info) throw new ZadsError('SERVICE_UNAVAILABLE', `S3 accepted ${key} but does not list it`, { context: { key } });
    return info;
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    let rangeHeader: string | undefined;
    if (range) {
      const info = await this.head(key);
      if (!info) throw new ZadsError('STORAGE_NOT_FOUND', `no object ${key} in ${this.name}`, { context: { key } });
      const { start, end } = resolveRange(range, info.sizeBytes, key);
      rangeHeader = `bytes=${start}-${end}`;
    }
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(key), Range: rangeHeader }));
      return out.Body as Readable;
    } catch (err) {
      throw s3Error(err, 'read', key, this.name);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }));
      return { key, sizeBytes: out.ContentLength ?? 0, etag: out.ETag ?? '""', modified: out.LastModified ?? new Date(0) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw s3Error(err, 'stat', key, this.name);
    }
  }

  async *list(prefix = ''): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      let out;
      try {
        out = await this.#client.send(
          new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: this.#prefix + prefix, ContinuationToken: token }),
        );
      } catch (err) {
        throw s3Error(err, 'list', prefix, this.name);
      }
      for (const o of out.Contents ?? []) {
        yield { key: o.Key!.slice(this.#prefix.length), sizeBytes: o.Size ?? 0, etag: o.ETag ?? '""', modified: o.LastModified ?? new Date(0) };
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }));
    } catch (err) {
      if (!isNotFound(err)) throw s3Error(err, 'delete', key, this.name);
    }
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }
}
