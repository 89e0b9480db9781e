import { describe, expect, it } from 'vitest';
import { decide, parseRange } from '../../src/api/ranges.ts';

const v = { sizeBytes: 1000, etag: '"abc"', modified: new Date('2024-01-02T03:04:05Z') };

describe('Range and conditional headers', () => {
  it('parses one range of each form and refuses what it cannot serve', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=900-', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=-10', 1000)).toEqual({ start: 990, end: 999 });
    expect(parseRange('bytes=-5000', 1000)).toEqual({ start: 0, end: 999 });
    expect(parseRange('bytes=990-5000', 1000)).toEqual({ start: 990, end: 999 });
    expect(parseRange('bytes=1000-', 1000)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 1000)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
    // Ignored (the whole file is sent): other units, several ranges, nonsense, end before start.
    for (const h of ['items=0-1', 'bytes=0-1,4-5', 'bytes=a-b', 'bytes=-', 'bytes=5-1']) expect(parseRange(h, 1000)).toBeUndefined();
  });

  it('304 on a matching If-None-Match (weak or strong, or *) and on If-Modified-Since not older', () => {
    expect(decide({ ifNoneMatch: '"abc"' }, v)).toEqual({ status: 304 });
    expect(decide({ ifNoneMatch: 'W/"abc", "x"' }, v)).toEqual({ status: 304 });
    expect(decide({ ifNoneMatch: '*' }, v)).toEqual({ status: 304 });
    expect(decide({ ifNoneMatch: '"other"', range: 'bytes=0-0' }, v)).toEqual({ status: 206, start: 0, end: 0 });
    expect(decide({ ifModifiedSince: v.modified.toUTCString() }, v)).toEqual({ status: 304 });
    expect(decide({ ifModifiedSince: 'Mon, 01 Jan 2024 00:00:00 GMT' }, v)).toEqual({ status: 200 });
    // If-None-Match wins over If-Modified-Since.
    expect(decide({ ifNoneMatch: '"other"', ifModifiedSince: v.modified.toUTCString() }, v)).toEqual({ status: 200 });
  });

  it('412 when If-Match does not match strongly', () => {
    expect(decide({ ifMatch: '"abc"' }, v)).toEqual({ status: 200 });
    expect(decide({ ifMatch: '*' }, v)).toEqual({ status: 200 });
    expect(decide({ ifMatch: 'W/"abc"' }, v)).toEqual({ status: 412 });
    expect(decide({ ifMatch: '"old"' }, v)).toEqual({ status: 412 });
  });

  it('If-Range: the range only while the ETag (strong) or the date matches exactly', () => {
    expect(decide({ range: 'bytes=10-', ifRange: '"abc"' }, v)).toEqual({ status: 206, start: 10, end: 999 });
    expect(decide({ range: 'bytes=10-', ifRange: 'W/"abc"' }, v)).toEqual({ status: 200 });
    expect(decide({ range: 'bytes=10-', ifRange: '"old"' }, v)).toEqual({ status: 200 });
    expect(decide({ range: 'bytes=10-', ifRange: v.modified.toUTCString() }, v)).toEqual({ status: 206, start: 10, end: 999 });
    expect(decide({ range: 'bytes=10-', ifRange: 'Mon, 01 Jan 2024 00:00:00 GMT' }, v)).toEqual({ status: 200 });
    expect(decide({ range: 'bytes=5000-' }, v)).toEqual({ status: 416 });
  });
});
