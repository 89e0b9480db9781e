import { ZadsError } from '../../errors.ts';

/** tar works in 512-byte records: a header, then the data padded to a whole record. */
export const TAR_RECORD_BYTES = 512;
/** Two zero records end a tar archive (POSIX); GNU tar and Python's tarfile both stop there. */
export const TAR_END_BYTES = 2 * TAR_RECORD_BYTES;
/** Members are regular files readable by all, as any tarball of data files has them. */
export const DEFAULT_MEMBER_MODE = 0o644;
/** Largest member a ustar size field (11 octal digits) holds: 8 GiB - 1. */
const MAX_MEMBER_BYTES = 0o77777777777;

function octal(header: Buffer, value: number, at: number, width: number): void {
  // Zero-padded octal, then a NUL, as GNU tar and tar-stream write it.
  header.write(value.toString(8).padStart(width - 1, '0'), at, width - 1, 'ascii');
  header[at + width - 1] = 0;
}

/** Splits a path over ustar's name (100 bytes) and prefix (155 bytes) fields, at a `/`. */
function splitName(name: string): { name: string; prefix: string } {
  if (Buffer.byteLength(name) <= 100) return { name, prefix: '' };
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest.length > 0) return { name: rest, prefix };
  }
  throw new ZadsError('INPUT_UNSUPPORTED', `tar member name ${JSON.stringify(name)} is too long for a ustar header`, { context: { member: name } });
}

/**
 * The 512-byte POSIX ustar header of a regular file: owner 0:0 with empty user and group names (nothing
 * about the machine that wrote it), mtime in whole seconds. The same member always gives the same bytes,
 * so a night rebuilt from the same alerts is the same tarball.
 */
export function tarHeader(member: { name: string; sizeBytes: number; date: Date; mode?: number }): Buffer {
  if (!Number.isInteger(member.sizeBytes) || member.sizeBytes < 0 || member.sizeBytes > MAX_MEMBER_BYTES) {
    throw new ZadsError('INPUT_UNSUPPORTED', `tar member ${member.name} of ${member.sizeBytes} bytes cannot be written`, { context: { member: member.name } });
  }
  const { name, prefix } = splitName(member.name);
  const header = Buffer.alloc(TAR_RECORD_BYTES);
  header.write(name, 0, 100, 'utf8');
  octal(header, (member.mode ?? DEFAULT_MEMBER_MODE) & 0o7777, 100, 8);
  octal(header, 0, 108, 8); // uid
  octal(header, 0, 116, 8); // gid
  octal(header, member.sizeBytes, 124, 12);
  octal(header, Math.max(0, Math.floor(member.date.getTime() / 1000)), 136, 12);
  header.fill(0x20, 148, 156); // checksum: spaces while it is summed
  header[156] = 0x30; // '0': regular file
  header.write('ustar\u000000', 257, 8, 'ascii');
  header.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (let i = 0; i < TAR_RECORD_BYTES; i++) sum += header[i]!;
  header.write(sum.toString(8).padStart(6, '0'), 148, 6, 'ascii');
  header[154] = 0;
  header[155] = 0x20;
  return header;
}

/** Zero bytes after a member's data up to the next record. */
export function tarPaddingBytes(sizeBytes: number): number {
  return (TAR_RECORD_BYTES - (sizeBytes % TAR_RECORD_BYTES)) % TAR_RECORD_BYTES;
}
