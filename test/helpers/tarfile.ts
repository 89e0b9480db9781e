import { run } from './archive.ts';
import { venvPython } from './python.ts';

const PYTHON_TARFILE = `
import sys, tarfile, hashlib, gzip, json
path = sys.argv[1]
out = []
with tarfile.open(path, 'r:gz') as t:
    for m in t:
        out.append({'name': m.name, 'size': m.size, 'mode': m.mode, 'mtime': m.mtime, 'file': m.isfile(), 'sha256': hashlib.sha256(t.extractfile(m).read()).hexdigest()})
with open(path, 'rb') as f:
    raw = gzip.decompress(f.read())
print(json.dumps({'members': out, 'tarBytes': len(raw)}))
`;

export interface PythonTarMember {
  name: string;
  size: number;
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  file: boolean;
  sha256: string;
}

/**
 * A .tar.gz as the project's Python reads it: every member through `tarfile` (name, size, mode, mtime, SHA-256 of its
 * bytes), and the whole file through `gzip.decompress` (the tar stream's length). Python's readers are
 * independent of ours (and of zlib's streaming API), so they catch a gzip or tar stream that only we read.
 */
export function pythonTarball(path: string): { members: PythonTarMember[]; tarBytes: number } {
  return JSON.parse(run(venvPython(), ['-c', PYTHON_TARFILE, path])) as { members: PythonTarMember[]; tarBytes: number };
}
