import type { LocalStore } from './storage/index.ts';
import { readAll } from './storage/index.ts';

/** One line of an MD5SUMS file: the hex digest and the file name it is for. */
export interface Md5sumsEntry {
  md5: string;
  name: string;
}

export interface ParsedMd5sums {
  entries: Md5sumsEntry[];
  /** Lines that are not `<32 hex>  <name>` (1-based line numbers), kept so a check can report them. */
  malformed: { line: number; text: string }[];
}

/** `md5sum` writes `<digest>  <name>` (text mode) or `<digest> *<name>` (binary mode); both are read. */
const LINE = /^([0-9a-fA-F]{32}) [ *](.+)$/;

export function parseMd5sums(text: string): ParsedMd5sums {
  const entries: Md5sumsEntry[] = [];
  const malformed: { line: number; text: string }[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const m = LINE.exec(line);
    if (m) entries.push({ md5: m[1]!.toLowerCase(), name: m[2]! });
    else malformed.push({ line: i + 1, text: line });
  });
  return { entries, malformed };
}

/** Byte order, as `LC_ALL=C sort` gives: the order md5sum users expect and that does not depend on a locale. */
function byName(a: Md5sumsEntry, b: Md5sumsEntry): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The file exactly as `md5sum` prints it: one `<32 hex>  <name>` line per file, sorted by name. */
export function formatMd5sums(entries: readonly Md5sumsEntry[]): string {
  return [...entries].sort(byName).map((e) => `${e.md5}  ${e.name}\n`).join('');
}

/** Reads an MD5SUMS object of the local store; absent is an empty file. */
export async function readMd5sums(store: LocalStore, key: string): Promise<ParsedMd5sums> {
  if (!(await store.head(key))) return { entries: [], malformed: [] };
  return parseMd5sums((await readAll(await store.get(key))).toString('utf8'));
}

/**
 * Sets the line of one tarball in a folder's MD5SUMS and writes the file again, atomically (the store
 * writes a temporary file, fsyncs and renames it). Lines that are not in md5sum's format are dropped:
 * `md5sum -c` would refuse the file with them.
 */
export async function setMd5sumsEntry(store: LocalStore, key: string, entry: Md5sumsEntry): Promise<void> {
  const { entries } = await readMd5sums(store, key);
  const kept = entries.filter((e) => e.name !== entry.name);
  kept.push({ md5: entry.md5.toLowerCase(), name: entry.name });
  await store.put(key, Buffer.from(formatMd5sums(kept), 'utf8'));
}
