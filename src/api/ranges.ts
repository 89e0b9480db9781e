/**
 * HTTP conditional and range requests for the bulk files (RFC 9110 §13 and §14), one byte range at a
 * time: what `curl -C -`, `wget -c` and download managers send to resume.
 */

/** What to answer, decided from the request headers and the file's size, ETag and date. */
export type Answer =
  | { status: 200 }
  | { status: 206; start: number; end: number }
  | { status: 304 }
  | { status: 412 }
  | { status: 416 };

export interface Validators {
  sizeBytes: number;
  /** Quoted strong ETag. */
  etag: string;
  modified: Date;
}

export interface ConditionalHeaders {
  range?: string;
  ifRange?: string;
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
}

/** `"a", W/"b"` → the opaque tags, without W/ (weak comparison, as If-None-Match uses). */
function tagList(header: string): string[] {
  return header.split(',').map((t) => t.trim().replace(/^W\//, '')).filter((t) => t.length > 0);
}

function seconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

/**
 * Parses `bytes=a-b`, `bytes=a-` or `bytes=-n`. Returns undefined for anything else (other units, several
 * ranges, bad syntax): the Range header is then ignored and the whole file sent, as RFC 9110 allows.
 */
export function parseRange(header: string, sizeBytes: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || sizeBytes === 0) return 'unsatisfiable';
    return { start: Math.max(0, sizeBytes - suffix), end: sizeBytes - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? sizeBytes - 1 : Math.min(Number(m[2]), sizeBytes - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= sizeBytes) return 'unsatisfiable';
  return { start, end };
}

/** Decides the answer to a GET or HEAD of a file with these validators. */
export function decide(h: ConditionalHeaders, v: Validators): Answer {
  if (h.ifMatch !== undefined) {
    const tags = tagList(h.ifMatch);
    // If-Match uses the strong comparison: a weak tag never matches.
    const strong = h.ifMatch.split(',').map((t) => t.trim());
    if (!tags.includes('*') && !strong.includes(v.etag)) return { status: 412 };
  }
  if (h.ifNoneMatch !== undefined) {
    const tags = tagList(h.ifNoneMatch);
    if (tags.includes('*') || tags.includes(v.etag)) return { status: 304 };
  } else if (h.ifModifiedSince !== undefined) {
    const since = Date.parse(h.ifModifiedSince);
    if (!Number.isNaN(since) && seconds(v.modified) <= Math.floor(since / 1000)) return { status: 304 };
  }
  if (h.range === undefined) return { status: 200 };
  if (h.ifRange !== undefined && !ifRangeHolds(h.ifRange, v)) return { status: 200 };
  const range = parseRange(h.range, v.sizeBytes);
  if (range === undefined) return { status: 200 };
  if (range === 'unsatisfiable') return { status: 416 };
  return { status: 206, ...range };
}

/** If-Range: an ETag (strong comparison) or the exact Last-Modified date. */
function ifRangeHolds(ifRange: string, v: Validators): boolean {
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return value === v.etag;
  const date = Date.parse(value);
  return !Number.isNaN(date) && Math.floor(date / 1000) === seconds(v.modified);
}
