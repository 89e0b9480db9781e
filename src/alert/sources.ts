import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ZadsError, toZadsError } from '../errors.ts';
import { iterateTarball } from './tarball.ts';
import type { AlertSource } from './types.ts';

/** The bytes of one alert file (or tarball member), or the reason they could not be read. */
export type InputItem = { source: AlertSource; bytes: Buffer } | { source: AlertSource; error: ZadsError };

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/** Is the file a gzipped tarball? Decided by its first bytes, not its name. */
export async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head.equals(GZIP_MAGIC);
  } finally {
    await fh.close();
  }
}

function isAlertName(name: string): boolean {
  return name.endsWith('.avro');
}

function isTarballName(name: string): boolean {
  return name.endsWith('.tar.gz') || name.endsWith('.tgz');
}

/**
 * Walks files, folders and UW tarballs, yielding each alert file's bytes in a stable order: paths as
 * given, folder entries sorted by name (recursively; `.avro` files and tarballs only), tarball members
 * in tar order. A path that cannot be read yields an error item and the walk goes on.
 */
export async function* readInputs(paths: readonly string[]): AsyncGenerator<InputItem> {
  for (const path of paths) {
    yield* readPath(path, true);
  }
}

async function* readPath(path: string, explicit: boolean): AsyncGenerator<InputItem> {
  const source: AlertSource = { file: path };
  let info;
  try {
    info = await stat(path);
  } catch (cause) {
    yield {
      source,
      error: new ZadsError('INPUT_NOT_FOUND', `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? cause}`, {
        cause,
        context: { file: path },
      }),
    };
    return;
  }
  if (info.isDirectory()) {
    const names = (await readdir(path)).sort();
    for (const name of names) {
      const child = join(path, name);
      if (isAlertName(name) || isTarballName(name)) yield* readPath(child, false);
      else if ((await stat(child).catch(() => undefined))?.isDirectory()) yield* readPath(child, false);
    }
    return;
  }
  if (!info.isFile()) {
    if (explicit) {
      yield { source, error: new ZadsError('INPUT_UNSUPPORTED', `${path} is not a regular file or folder`, { context: { file: path } }) };
    }
    return;
  }
  try {
    if (await isGzipFile(path)) {
      for await (const member of iterateTarball(path, { accept: isAlertName })) {
        yield { source: { file: path, member: member.name }, bytes: member.bytes };
      }
    } else {
      yield { source, bytes: await readFile(path) };
    }
  } catch (err) {
    yield { source, error: toZadsError(err, { file: path }) };
  }
}
