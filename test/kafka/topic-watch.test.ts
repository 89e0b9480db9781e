import { describe, expect, it, onTestFinished } from 'vitest';
import { TopicWatch } from '../../src/kafka/index.ts';
import type { Admin } from '../../src/kafka/index.ts';
import type { Logger } from '../../src/log.ts';
import { sleep, waitFor } from '../helpers/wait.ts';

/*
 * TopicWatch as pure logic: a fake admin whose topic list the test edits (topics created, deleted), and
 * the onChange calls it makes. No broker.
 */

const PATTERN = /^ztf_\d{8}_programid1$/;

/** A cluster of named topics; listTopics() answers them, or throws while `failing` is set. */
class FakeCluster {
  topics = new Set<string>();
  failing: Error | undefined;
  listings = 0;

  // Only listTopics is used by TopicWatch; the cast keeps the fake from implementing the whole Admin.
  readonly admin = { listTopics: async () => this.list() } as unknown as Admin;

  async list(): Promise<string[]> {
    this.listings++;
    if (this.failing) throw this.failing;
    return [...this.topics];
  }
}

/** A watch over the fake cluster, stopped when the test ends, and the calls it made. */
function watch(cluster: FakeCluster, options: { intervalMs?: number; onChange?: () => Promise<void>; logger?: Logger } = {}) {
  const calls: { topics: string[]; added: string[] }[] = [];
  const w = new TopicWatch({
    admin: cluster.admin,
    pattern: PATTERN,
    intervalMs: options.intervalMs ?? 60_000,
    onChange: async (topics, added) => {
      calls.push({ topics, added });
      await options.onChange?.();
    },
    logger: options.logger,
  });
  onTestFinished(() => w.stop());
  return { w, calls };
}

/** A fake cluster holding `topics`, and a watch over it that has had its first look. */
async function started(topics: string[], options: Parameters<typeof watch>[1] = {}) {
  const cluster = new FakeCluster();
  cluster.topics = new Set(topics);
  const { w, calls } = watch(cluster, options);
  await w.start();
  return { cluster, w, calls };
}

describe('TopicWatch', () => {
  it('reports the matching topics on start, sorted, all of them added; other topics are not its concern', async () => {
    const { w, calls } = await started(['ztf_20240102_programid1', 'ztf_20240101_programid1', 'ztf_20240101_programid2', 'ztf_20240101_programid1_purity', '__consumer_offsets']);
    expect(calls).toEqual([{ topics: ['ztf_20240101_programid1', 'ztf_20240102_programid1'], added: ['ztf_20240101_programid1', 'ztf_20240102_programid1'] }]);
    expect(w.topics).toEqual(['ztf_20240101_programid1', 'ztf_20240102_programid1']);
  });

  it('reports nothing on start when no topic matches, and nothing while the matching set stays the same', async () => {
    const { cluster, w, calls } = await started(['other']);
    await w.check();
    cluster.topics.add('ztf_20240101_programid2');
    await w.check();
    expect(calls).toEqual([]);
    expect(w.topics).toEqual([]);
  });

  it('a topic that appears is reported with the whole set, only it added', async () => {
    const { cluster, w, calls } = await started(['ztf_20240102_programid1']);
    cluster.topics.add('ztf_20240101_programid1');
    await w.check();
    await w.check();
    expect(calls).toEqual([
      { topics: ['ztf_20240102_programid1'], added: ['ztf_20240102_programid1'] },
      { topics: ['ztf_20240101_programid1', 'ztf_20240102_programid1'], added: ['ztf_20240101_programid1'] },
    ]);
  });

  it('a deleted topic shrinks the set: reported with what is left and nothing added', async () => {
    const { cluster, w, calls } = await started(['ztf_20240101_programid1', 'ztf_20240102_programid1']);
    cluster.topics.delete('ztf_20240101_programid1');
    await w.check();
    expect(calls.at(-1)).toEqual({ topics: ['ztf_20240102_programid1'], added: [] });
    expect(w.topics).toEqual(['ztf_20240102_programid1']);
    // The last one gone: an empty set is a change too.
    cluster.topics.delete('ztf_20240102_programid1');
    await w.check();
    expect(calls.at(-1)).toEqual({ topics: [], added: [] });
    expect(w.topics).toEqual([]);
    expect(calls).toHaveLength(3);
  });

  it('one topic deleted and another created between two looks: one report, the new set, the new topic added', async () => {
    const { cluster, w, calls } = await started(['ztf_20240101_programid1']);
    cluster.topics.delete('ztf_20240101_programid1');
    cluster.topics.add('ztf_20240102_programid1');
    await w.check();
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual({ topics: ['ztf_20240102_programid1'], added: ['ztf_20240102_programid1'] });
  });

  it('a deleted topic created again is reported as added again', async () => {
    const { cluster, w, calls } = await started(['ztf_20240101_programid1']);
    cluster.topics.clear();
    await w.check();
    cluster.topics.add('ztf_20240101_programid1');
    await w.check();
    expect(calls.map((c) => c.added)).toEqual([['ztf_20240101_programid1'], [], ['ztf_20240101_programid1']]);
  });

  it('a change whose onChange failed is not taken as seen: the next look reports it again', async () => {
    let fail = true;
    // Nothing matches yet: the first look calls no onChange.
    const { cluster, w, calls } = await started([], { onChange: async () => (fail ? Promise.reject(new Error('cannot create the outputs')) : undefined) });
    cluster.topics.add('ztf_20240101_programid1');
    await expect(w.check()).rejects.toThrow('cannot create the outputs');
    expect(w.topics).toEqual([]);
    fail = false;
    await w.check();
    expect(calls).toEqual([
      { topics: ['ztf_20240101_programid1'], added: ['ztf_20240101_programid1'] },
      { topics: ['ztf_20240101_programid1'], added: ['ztf_20240101_programid1'] },
    ]);
    expect(w.topics).toEqual(['ztf_20240101_programid1']);
  });

  it('start throws a failed first listing to the caller', async () => {
    const cluster = new FakeCluster();
    cluster.failing = new Error('broker down');
    const { w } = watch(cluster);
    await expect(w.start()).rejects.toThrow('broker down');
  });

  it('keeps looking every interval: a failed listing is logged and the next tick finds the change', async () => {
    const warnings: unknown[][] = [];
    // Only warn is called; the cast keeps the fake from implementing all of pino's Logger.
    const logger = { warn: (...args: unknown[]) => warnings.push(args) } as unknown as Logger;
    const { cluster, calls } = await started([], { intervalMs: 10, logger });
    cluster.failing = new Error('broker restarting');
    await waitFor('a failed listing logged', () => warnings.length > 0, { timeoutMs: 5000, intervalMs: 5 });
    const [fields, msg] = warnings[0] as [{ err: unknown }, string];
    expect(msg).toBe('listing topics failed; will retry');
    // The error itself or its message, whichever the log line carries.
    expect(String((fields.err as Error | undefined)?.message ?? fields.err)).toBe('broker restarting');
    cluster.topics.add('ztf_20240101_programid1');
    cluster.failing = undefined;
    await waitFor('the new topic reported', () => calls.length === 1, { timeoutMs: 5000, intervalMs: 5 });
    cluster.topics.clear();
    await waitFor('the deletion reported', () => calls.length === 2, { timeoutMs: 5000, intervalMs: 5 });
    expect(calls).toEqual([
      { topics: ['ztf_20240101_programid1'], added: ['ztf_20240101_programid1'] },
      { topics: [], added: [] },
    ]);
  });

  it('never calls onChange while a call is still running, however short the interval', async () => {
    let running = 0;
    let most = 0;
    const { cluster, calls } = await started([], {
      intervalMs: 2,
      onChange: async () => {
        most = Math.max(most, ++running);
        await sleep(30);
        running--;
      },
    });
    for (let night = 1; night <= 5; night++) {
      cluster.topics.add(`ztf_2024010${night}_programid1`);
      await waitFor(`night ${night} reported`, () => calls.length === night, { timeoutMs: 5000, intervalMs: 5 });
    }
    expect(most).toBe(1);
  });

  it('after stop, nothing is listed or reported any more; stop is idempotent', async () => {
    const { cluster, w, calls } = await started([], { intervalMs: 5 });
    await w.stop();
    await w.stop();
    const listings = cluster.listings;
    cluster.topics.add('ztf_20240101_programid1');
    await w.check();
    await sleep(50);
    expect(cluster.listings).toBe(listings);
    expect(calls).toEqual([]);
  });
});
