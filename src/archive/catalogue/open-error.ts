import { statSync } from 'node:fs';
import { ZadsError } from '../../errors.ts';
import type { ErrorCode } from '../../errors.ts';

function fileKind(path: string): 'missing' | 'folder' | 'file' {
  try {
    return statSync(path).isDirectory() ? 'folder' : 'file';
  } catch {
    return 'missing';
  }
}

/**
 * Why a catalogue did not open, as an error a person can act on: a missing file (or folder) is
 * INPUT_NOT_FOUND; a folder, a file that is no SQLite database or a database that is no catalogue is
 * INPUT_UNSUPPORTED; a full disk is STORAGE_FULL; a refused permission, an I/O error or a damaged
 * database is STORAGE_IO (retriable when another process holds a lock on it).
 */
export function catalogueOpenError(path: string, readonly: boolean, cause: unknown): ZadsError {
  if (cause instanceof ZadsError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  const code = String((cause as { code?: unknown } | undefined)?.code ?? '');
  const fail = (errorCode: ErrorCode, why: string, retriable?: boolean): ZadsError =>
    new ZadsError(errorCode, `cannot open the catalogue ${path}: ${why} (${message})`, { cause, context: { file: path }, retriable });

  if (code === 'SQLITE_FULL' || code === 'ENOSPC') return fail('STORAGE_FULL', 'no space left');
  const kind = fileKind(path);
  if (kind === 'folder') return fail('INPUT_UNSUPPORTED', 'it is a folder');
  // A writer creates the file: when that failed, the file is missing for another reason (permission).
  if (kind === 'missing' && (readonly || code === 'ENOENT')) return fail('INPUT_NOT_FOUND', 'no such file');
  if (code === 'ENOTDIR') return fail('INPUT_UNSUPPORTED', 'a folder of its path is a file');
  if (code === 'SQLITE_NOTADB') return fail('INPUT_UNSUPPORTED', 'not a SQLite database');
  // Our own pragmas and schema statements fail on a database of another shape (no alerts table, a newer format).
  if (code === 'SQLITE_ERROR') return fail('INPUT_UNSUPPORTED', 'not a catalogue');
  if (/^SQLITE_(BUSY|LOCKED)/.test(code)) return fail('STORAGE_IO', 'locked by another process', true);
  if (code.startsWith('SQLITE_CORRUPT')) return fail('STORAGE_IO', 'the database is damaged');
  if (/^(SQLITE_(CANTOPEN|READONLY|PERM|AUTH|IOERR)|EACCES$|EPERM$|EROFS$|EIO$)/.test(code)) return fail('STORAGE_IO', 'it cannot be read or written');
  return new ZadsError('INTERNAL', `cannot open the catalogue ${path}: ${message}`, { cause, context: { file: path } });
}
