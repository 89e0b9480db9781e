import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStore, S3Store, readAll } from '../../src/archive/index.ts';
import type { ObjectStore } from '../../src/archive/index.ts';
import { S3Config } from '../helpers/s3.ts';

/** vitest's deep equality walks a Buffer byte by byte; compare lengths and digests instead. */
function sameBytes(actual: Buffer, expected: Buffer): void {
  expect(actual.length).toBe(expected.length);
  expect(createHash('sha256').update(actual).digest('hex')).toBe(createHash('sha256').update(expected).digest('hex'));
}

/** The same expectations for every store: what a reader of the archive relies on. */
function contract(name: string, open: () => Promise<ObjectStore>): void {
  describe(name, () => {
    let store: ObjectStore;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store.close();
    });

    it('puts, heads and gets back the same bytes', async () => {
      const body = randomBytes(300_000);
      const put = await store.put('20180819/ztf_public_20180819.tar.gz', body);
      expect(put.sizeBytes).toBe(body.length);
      const head = await store.head('20180819/ztf_public_20180819.tar.gz');
      expect(head?.sizeBytes).toBe(body.length);
      expect(head?.etag).toMatch(/^".+"$/);
      sameBytes(await readAll(await store.get('20180819/ztf_public_20180819.tar.gz')), body);
    });

    it('serves byte ranges, including an open-ended one', async () => {
      const body = randomBytes(100_000);
      await store.put('ranges/a.bin', body);
      sameBytes(await readAll(await store.get('ranges/a.bin', { start: 1000, end: 1999 })), body.subarray(1000, 2000));
      sameBytes(await readAll(await store.get('ranges/a.bin', { start: 99_990 })), body.subarray(99_990));
      sameBytes(await readAll(await store.get('ranges/a.bin', { start: 0, end: 10_000_000 })), body);
      await expect(store.get('ranges/a.bin', { start: 100_000 })).rejects.toMatchObject({ code: 'STORAGE_RANGE_INVALID' });
    });

    it('streams a large put from a Readable (multipart on S3)', async () => {
      const chunk = randomBytes(1024 * 1024);
      const chunks = Array.from({ length: 12 }, (_, i) => Buffer.concat([chunk.subarray(i), chunk.subarray(0, i)]));
      await store.put('big/night.tar.gz', Readable.from(chunks));
      sameBytes(await readAll(await store.get('big/night.tar.gz')), Buffer.concat(chunks));
    });

    it('replaces an object whole and changes its ETag', async () => {
      const first = await store.put('replace/x', Buffer.from('first version'));
      const second = await store.put('replace/x', Buffer.from('second, longer version'));
      expect(second.etag).not.toBe(first.etag);
      expect((await readAll(await store.get('replace/x'))).toString()).toBe('second, longer version');
    });

    it('lists keys under a prefix in order, and deletes', async () => {
      await store.put('list/20180820/b', Buffer.from('b'));
      await store.put('list/20180819/a', Buffer.from('a'));
      await store.put('list-other/c', Buffer.from('c'));
      const keys: string[] = [];
      for await (const o of store.list('list/')) keys.push(o.key);
      expect(keys).toEqual(['list/20180819/a', 'list/20180820/b']);
      await store.delete('list/20180819/a');
      await store.delete('list/never-there');
      expect(await store.head('list/20180819/a')).toBeUndefined();
    });

    it('says STORAGE_NOT_FOUND for a missing object', async () => {
      expect(await store.head('missing/none')).toBeUndefined();
      await expect(store.get('missing/none')).rejects.toMatchObject({ code: 'STORAGE_NOT_FOUND' });
      await expect(store.get('missing/none', { start: 0 })).rejects.toMatchObject({ code: 'STORAGE_NOT_FOUND' });
    });

    it('refuses keys that could leave the archive', async () => {
      for (const key of ['../etc/passwd', '/abs', 'a/../../b', 'a//b', '', 'a\\b']) {
        await expect(store.put(key, Buffer.from('x')), key).rejects.toMatchObject({ code: 'STORAGE_KEY_INVALID' });
        await expect(store.get(key), key).rejects.toMatchObject({ code: 'STORAGE_KEY_INVALID' });
      }
    });
  });
}

contract('LocalStore', async () => new LocalStore(mkdtempSync(join(tmpdir(), 'zads-store-'))));

contract('S3Store against S3Proxy', async () => {
  const bucket = `zads-test-${randomUUID().slice(0, 8)}`;
  const store = new S3Store(S3Config(bucket, 'archive/'));
  await store.client.send(new CreateBucketCommand({ Bucket: bucket }));
  return store;
});

describe('LocalStore durability', () => {
  it('leaves no temporary file behind after a put', async () => {
    const root = mkdtempSync(join(tmpdir(), 'zads-store-'));
    const store = new LocalStore(root);
    await store.put('n/x.bin', randomBytes(10_000));
    expect(readdirSync(join(root, 'n'))).toEqual(['x.bin']);
  });
});

// Regression: with the bucket not created, an upload said "no object <key> in s3://<bucket>/".
describe('S3Store when the bucket does not exist', () => {
  it('names the missing bucket and what to do, for a put and a get', async () => {
    const bucket = `zads-missing-${randomUUID().slice(0, 8)}`;
    const store = new S3Store(S3Config(bucket, 'archive/'));
    try {
      const attempts = [() => store.put('20180819/ztf_public_20180819.tar.gz', randomBytes(1000)), () => store.get('20180819/ztf_public_20180819.tar.gz')];
      for (const attempt of attempts) {
        await expect(attempt()).rejects.toMatchObject({
          code: 'CONFIG_INVALID',
          message: expect.stringMatching(new RegExp(`^S3 bucket ${bucket} does not exist \\(s3://${bucket}/archive/\\): create it .*or set s3\\.bucket`)),
        });
      }
    } finally {
      await store.close();
    }
  });
});

describe('S3Store when S3 is down', () => {
  it('reports SERVICE_UNAVAILABLE, marked retriable', async () => {
    const store = new S3Store({ ...S3Config('zads-down'), endpoint: 'http://127.0.0.1:9' });
    await expect(store.put('x', Buffer.from('x'))).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', retriable: true });
    await store.close();
  });

  it('a store that accepts connections and then never answers fails after s3.socketIdleTimeoutMs, retriable', async () => {
    // A listener that takes every connection and says nothing: a hung S3 endpoint.
    const sockets: Socket[] = [];
    const silent = createServer((s) => void sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const store = new S3Store({ ...S3Config('zads-hung'), endpoint: `http://127.0.0.1:${port}`, socketIdleTimeoutMs: 700 });
    try {
      await expect(store.get('night/x')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', retriable: true });
      await expect(store.put('x', Buffer.from('x'))).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', retriable: true });
      expect(sockets.length).toBeGreaterThan(0);
    } finally {
      await store.close();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
