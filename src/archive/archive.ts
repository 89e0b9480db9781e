import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { S3Config } from '../config/index.ts';
import { ZadsError } from '../errors.ts';
import { Catalogue } from './catalogue/index.ts';
import { CATALOGUE_FILE } from './layout.ts';
import { SegmentFiles } from './segments.ts';
import { LocalStore, S3Store } from './storage/index.ts';

/** An opened archive: the catalogue, the segment files and the stores of one data folder. */
export interface Archive {
  readonly dataDir: string;
  readonly catalogue: Catalogue;
  readonly segments: SegmentFiles;
  /** The data folder as an object store (tarballs, MD5SUMS, quarantine). */
  readonly local: LocalStore;
  /** The S3 store, when configured. */
  readonly remote: S3Store | undefined;
  /** Releases the writer lock (if held) and closes everything; idempotent. */
  close(): Promise<void>;
}

export interface OpenArchiveOptions {
  dataDir: string;
  s3?: S3Config;
  /**
   * Open as the one writer (ingest, import, close): takes the data folder's writer lock and cuts the
   * segments back to what the catalogue records. Readers (API, replay, verify) leave this false.
   */
  writer?: boolean;
}

const LOCK_FILE = '.writer.lock';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One writer per data folder: a lock file holding the writer's pid; a dead writer's lock is taken over. */
function takeLock(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder !== process.pid && pidAlive(holder)) {
        throw new ZadsError('ARCHIVE_LOCKED', `the archive ${dataDir} is being written by process ${holder}; stop it first (one writer per data folder)`, {
          context: { file: path, pid: holder },
        });
      }
      rmSync(path, { force: true });
    }
  }
  throw new ZadsError('ARCHIVE_LOCKED', `cannot take the writer lock ${path}: another process took it meanwhile`, { context: { file: path } });
}

export async function openArchive(options: OpenArchiveOptions): Promise<Archive> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const release = options.writer ? takeLock(dataDir) : () => undefined;
  let catalogue: Catalogue | undefined;
  try {
    catalogue = new Catalogue(join(dataDir, CATALOGUE_FILE));
    const segments = new SegmentFiles(dataDir);
    if (options.writer) await segments.recover(catalogue);
    const local = new LocalStore(dataDir);
    const remote = options.s3 ? new S3Store(options.s3) : undefined;
    let closing: Promise<void> | undefined;
    const opened = catalogue;
    return {
      dataDir,
      catalogue: opened,
      segments,
      local,
      remote,
      close() {
        closing ??= (async () => {
          const steps = [() => segments.close(), () => remote?.close(), () => opened.close(), () => release()];
          for (const step of steps) {
            try {
              await step();
            } catch {
              // every step runs; a failed close of one part must not keep the lock held
            }
          }
        })();
        return closing;
      },
    };
  } catch (err) {
    catalogue?.close();
    release();
    throw err;
  }
}
