import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catalogue } from '../../../src/archive/index.ts';

function openError(path: string, readonly: boolean): unknown {
  try {
    new Catalogue(path, { readonly }).close();
  } catch (err) {
    return err;
  }
  throw new Error(`${path} opened`);
}

describe('catalogue open errors say what happened (every one was INPUT_NOT_FOUND)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'zads-catalogue-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a missing file is INPUT_NOT_FOUND', () => {
    expect(openError(join(dir, 'none.sqlite'), true)).toMatchObject({ code: 'INPUT_NOT_FOUND', context: { file: join(dir, 'none.sqlite') } });
    expect(openError(join(dir, 'no', 'none.sqlite'), true)).toMatchObject({ code: 'INPUT_NOT_FOUND' });
  });

  it('a file that is no SQLite database, or a folder, is INPUT_UNSUPPORTED', () => {
    const text = join(dir, 'text.sqlite');
    writeFileSync(text, 'not a database, '.repeat(100));
    mkdirSync(join(dir, 'folder.sqlite'));
    for (const readonly of [true, false]) {
      expect(openError(text, readonly)).toMatchObject({ code: 'INPUT_UNSUPPORTED', message: expect.stringContaining('not a SQLite database') });
      expect(openError(join(dir, 'folder.sqlite'), readonly)).toMatchObject({ code: 'INPUT_UNSUPPORTED', message: expect.stringContaining('folder') });
    }
  });

  it('a damaged database is STORAGE_IO', () => {
    const path = join(dir, 'catalogue.sqlite');
    new Catalogue(path).close();
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(3000, 0x41), 0, 3000, 200);
    closeSync(fd);
    for (const readonly of [true, false]) {
      expect(openError(path, readonly)).toMatchObject({ code: 'STORAGE_IO', retriable: false, message: expect.stringContaining('damaged') });
    }
  });
});
