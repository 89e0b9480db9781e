import type { ParallelGzipOptions } from './parallel-gzip.ts';
import { ParallelGzip } from './parallel-gzip.ts';
import type { ByteSink, GzipSummary } from './parallel-gzip.ts';
import { TAR_END_BYTES, tarHeader, tarPaddingBytes } from './tar-header.ts';

/** One regular file to put in a tarball. */
export interface TarGzMember {
  /** Path in the archive, e.g. `<candid>.avro`. */
  name: string;
  /** The member's exact bytes. */
  bytes: Buffer;
  /** Modification time recorded in the header (whole seconds). */
  date: Date;
  /** Permission bits. Default 0644. */
  mode?: number;
}

export type TarGzWriterOptions = ParallelGzipOptions;

export interface TarGzSummary extends GzipSummary {
  members: number;
  /** Sum of the members' sizes, in bytes (before tar and gzip). */
  memberBytes: number;
}

const ZEROS = Buffer.alloc(TAR_END_BYTES);

/**
 * THE tar.gz writer of ZADS-TS: night tarballs (archive close), subset downloads (API) and filter
 * results (batch filters) all go through it. Members are appended one at a time, as ustar entries,
 * into a gzip stream compressed on every core (ParallelGzip); `add` resolves when the writer can take
 * the next one, so memory holds a few blocks whatever the number of members.
 */
export class TarGzWriter {
  readonly #gzip: ParallelGzip;
  #members = 0;
  #memberBytes = 0;

  constructor(sink: ByteSink, options: TarGzWriterOptions = {}) {
    this.#gzip = new ParallelGzip(sink, options);
  }

  get members(): number {
    return this.#members;
  }

  get memberBytes(): number {
    return this.#memberBytes;
  }

  async add(member: TarGzMember): Promise<void> {
    const size = member.bytes.length;
    await this.#gzip.write(tarHeader({ name: member.name, sizeBytes: size, date: member.date, mode: member.mode }));
    await this.#gzip.write(member.bytes);
    const pad = tarPaddingBytes(size);
    if (pad > 0) await this.#gzip.write(ZEROS.subarray(0, pad));
    this.#members++;
    this.#memberBytes += size;
  }

  /** Writes the end of the archive and the gzip trailer; resolves once the sink has taken everything. */
  async finish(): Promise<TarGzSummary> {
    await this.#gzip.write(ZEROS);
    const gz = await this.#gzip.end();
    return { ...gz, members: this.#members, memberBytes: this.#memberBytes };
  }

  /** Stops: nothing more reaches the sink. Safe at any time, and twice. */
  abort(): void {
    this.#gzip.abort();
  }
}
