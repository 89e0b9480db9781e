import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';

/**
 * Passes bytes through while computing what S3 will say about them: the size, the MD5 of the whole (the
 * ETag of a single-part upload) and the ETag of a multipart upload in parts of `partSizeBytes`
 * (`md5(md5(part1) … md5(partN))-N`), so an upload is checked without reading the object back.
 */
export class EtagTap extends Transform {
  readonly #partSizeBytes: number;
  readonly #whole: Hash = createHash('md5');
  readonly #parts: Buffer[] = [];
  #part: Hash = createHash('md5');
  #inPart = 0;
  #sizeBytes = 0;

  /** @param partSizeBytes the part size of the uploader, in bytes. */
  constructor(partSizeBytes: number) {
    super();
    this.#partSizeBytes = partSizeBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#whole.update(chunk);
    this.#sizeBytes += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(chunk.length - at, this.#partSizeBytes - this.#inPart);
      this.#part.update(chunk.subarray(at, at + take));
      this.#inPart += take;
      at += take;
      if (this.#inPart === this.#partSizeBytes) {
        this.#parts.push(this.#part.digest());
        this.#part = createHash('md5');
        this.#inPart = 0;
      }
    }
    callback(null, chunk);
  }

  /** Size, MD5 and both possible ETags (unquoted); valid once the stream has ended. */
  result(): { sizeBytes: number; md5: string; multipartEtag: string } {
    const parts = this.#inPart > 0 || this.#parts.length === 0 ? [...this.#parts, this.#part.digest()] : this.#parts;
    const md5 = this.#whole.digest('hex');
    const multipartEtag = `${createHash('md5').update(Buffer.concat(parts)).digest('hex')}-${parts.length}`;
    return { sizeBytes: this.#sizeBytes, md5, multipartEtag };
  }
}

/** An ETag without its quotes. */
export function bareEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}
