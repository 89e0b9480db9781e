import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { FILTER_HEADER, FILTER_VERSION_HEADER, InProcessJudge, bright, createJudge, extragalactic, loadFilter, purity, runBatch } from '../../src/filter/index.ts';
import type { AlertFilter, BatchSink, FilterStream } from '../../src/filter/index.ts';
import { readInputs } from '../../src/alert/index.ts';
import { ensureTopic } from '../../src/kafka/index.ts';
import { BROKEN_FILE, SAMPLE_TARBALL } from '../helpers/data.ts';
import { cluster, freshNight, kafkaFor, produce, readTopic, recordsIn } from '../helpers/kafka.ts';
import type { OutgoingMessage, ReadRecord } from '../helpers/kafka.ts';
import { UW_BROKERS } from '../helpers/services.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { fixture, startFilterStream, tarballAlerts } from './helpers.ts';
import type { SampleAlert } from './helpers.ts';

/*
 * Each test makes its own night topic (deleted with its outputs when the test ends) and its own runner
 * (closed when the test ends), so each runs alone: npx vitest run test/filter/stream.test.ts -t '<name>'.
 */

const uw = kafkaFor(UW_BROKERS);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const ctx = { source: {}, signal: new AbortController().signal };
const messageOf = (a: SampleAlert, i: number): OutgoingMessage => ({ key: a.objectId, value: a.bytes, headers: { origin: 'test', seq: String(i) } });
const JUNK: OutgoingMessage = { key: 'junk', value: Buffer.from('not an alert') };
const broken = (): OutgoingMessage => ({ key: 'broken', value: readFileSync(BROKEN_FILE) });

describe('stream mode on the real broker', () => {
  let alerts: SampleAlert[];
  let filters: AlertFilter[];

  /** A runner of the five filters (three predefined, one that throws, one that hangs) over the program's nights. */
  const newRunner = (night: { pattern: RegExp; programid: number }): Promise<FilterStream> =>
    startFilterStream({ cluster: cluster(UW_BROKERS), filters, topics: night.pattern, name: `test-${night.programid}`, timeoutMs: 300, discoveryIntervalMs: 200, reportIntervalMs: 0 });

  beforeAll(async () => {
    alerts = await tarballAlerts();
    filters = [purity, bright, extragalactic, (await loadFilter(fixture('throws.ts'))).filter, (await loadFilter(fixture('hangs.ts'))).filter];
  });

  it('writes each passing alert once, byte-identical with key and headers, through a restart; a throwing and a hanging filter are contained', async () => {
    const night = await freshNight(uw, { night: '20240105', partitions: 4 });
    // Part one: 20 alerts and a message that is no alert, judged by a first runner, which then stops.
    await produce(uw, night.topic, [...alerts.slice(0, 20).map(messageOf), JUNK]);
    let runner = await newRunner(night);
    await waitFor('the first 21 records judged', () => runner.stats.consumed >= 21);
    expect(runner.stats.undecodable).toBe(1);
    await runner.close();

    // Part two: a second runner of the same name resumes after what the first committed.
    await produce(uw, night.topic, [...alerts.slice(20).map((a, i) => messageOf(a, 20 + i)), broken()]);
    runner = await newRunner(night);
    await waitFor('the last 11 records judged', () => runner.stats.consumed >= 11);
    await sleep(1000);
    const stats = runner.stats;
    expect(stats.consumed).toBe(11);
    expect(stats.undecodable).toBe(1);
    expect(stats.filters.find((f) => f.name === 'throws')).toMatchObject({ tested: 10, errors: 10, passed: 0 });
    expect(stats.filters.find((f) => f.name === 'hangs')).toMatchObject({ tested: 10, timeouts: 10, passed: 0 });

    const input = await readTopic(uw, night.topic, 32, { settleMs: 0 });
    const inputPartition = new Map(input.map((r) => [sha(r.message.value!), r.partition]));
    for (const f of [purity, bright, extragalactic]) {
      const expected = alerts.filter((a) => f.test(a.decoded.alert, ctx));
      expect(expected.length, f.name).toBeGreaterThan(0);
      const out = await readTopic(uw, `${night.topic}_${f.name}`, expected.length, { withCandid: true });
      expect(out.map((r) => r.candid).sort(), f.name).toEqual(expected.map((a) => a.candid).sort());
      for (const r of out) {
        const a = expected.find((e) => e.candid === r.candid)!;
        expect(r.valueSha256).toBe(sha(a.bytes));
        expect(r.partition).toBe(inputPartition.get(sha(a.bytes)));
        expect(r.message.key!.toString()).toBe(a.objectId);
        expect(r.message.headers!.origin!.toString()).toBe('test');
        expect(r.message.headers![FILTER_HEADER]!.toString()).toBe(f.name);
        expect(r.message.headers![FILTER_VERSION_HEADER]!.toString()).toBe(f.version);
      }
    }
    expect(await recordsIn(uw, `${night.topic}_throws`)).toBe(0);
    expect(await recordsIn(uw, `${night.topic}_hangs`)).toBe(0);
  });

  it('keeps going: a new night topic is found and filtered by the same runner', async () => {
    const night = await freshNight(uw, { night: '20240105', partitions: 4 });
    const late = `ztf_20240106_programid${night.programid}`;
    const runner = await newRunner(night);
    await waitFor(`the runner on ${night.topic}`, () => runner.stats.topics.includes(night.topic));
    const before = runner.stats.consumed;
    const few = alerts.slice(0, 8);
    await ensureTopic(uw, { topic: late, partitions: 2 });
    await produce(uw, late, few.map(messageOf));
    await waitFor('the new topic judged', () => runner.stats.consumed >= before + few.length);
    const expected = few.filter((a) => bright.test(a.decoded.alert, ctx)).map((a) => a.candid).sort();
    const out = await readTopic(uw, `${late}_bright`, expected.length, { withCandid: true });
    expect(out.map((r) => r.candid).sort()).toEqual(expected);
    expect(runner.stats.topics).toEqual([night.topic, late].sort());
  });

  it('batch mode over the same alerts gives the same candids as the stream', async () => {
    // The stream: the 30 alerts of the tarball, a message that is no alert and the broken file.
    const night = await freshNight(uw, { night: '20240105', partitions: 4, messages: [...alerts.map(messageOf), JUNK, broken()] });
    const runner = await newRunner(night);
    await waitFor('the 32 records judged', () => runner.stats.consumed >= 32);
    const stream = runner.stats;
    const judge = new InProcessJudge(filters, { timeoutMs: 300 });
    onTestFinished(() => judge.close());
    const listed: Set<string>[] = filters.map(() => new Set());
    const sink: BatchSink = { pass: (i, _item, passed) => passed.forEach((a) => listed[i]!.add(a.candid.toString())) };
    const report = await runBatch({ judge, inputs: readInputs([SAMPLE_TARBALL, BROKEN_FILE]), sink });
    expect(report).toMatchObject({ items: 31, alerts: 30, undecodable: 1 });
    for (let i = 0; i < filters.length; i++) {
      const f = filters[i]!;
      const count = await recordsIn(uw, `${night.topic}_${f.name}`);
      const fromStream: ReadRecord[] = count === 0 ? [] : await readTopic(uw, `${night.topic}_${f.name}`, listed[i]!.size, { withCandid: true, settleMs: 500 });
      expect(new Set(fromStream.map((r) => r.candid)), f.name).toEqual(listed[i]);
    }
    expect(stream.filters.map((f) => f.name)).toEqual(filters.map((f) => f.name));
    expect(report.filters.find((f) => f.name === 'hangs')).toMatchObject({ timeouts: 30 });
    expect(report.filters.find((f) => f.name === 'throws')).toMatchObject({ errors: 30 });
  });

  it('with the filters in a worker thread, a filter stuck in a synchronous loop is ended and the stream goes on', async () => {
    const night = await freshNight(uw, { night: '20240107', partitions: 2, messages: alerts.map(messageOf) });
    const judge = await createJudge(['purity', fixture('loops.ts')], { timeoutMs: 100, hangMs: 300 });
    onTestFinished(() => judge.close());
    const isolated = await startFilterStream({ cluster: cluster(UW_BROKERS), judge, topics: new RegExp(`^${night.topic}$`), name: `test-${night.programid}-isolated`, reportIntervalMs: 0 });
    await waitFor('the topic judged', () => isolated.stats.consumed >= alerts.length);
    const expected = alerts.filter((a) => purity.test(a.decoded.alert, ctx)).map((a) => a.candid).sort();
    const out = await readTopic(uw, `${night.topic}_purity`, expected.length, { withCandid: true });
    expect(out.map((r) => r.candid).sort()).toEqual(expected);
    const stuck = alerts.filter((a) => (a.decoded.alert.candidate.magpsf as number) < 16).length;
    expect(isolated.stats.filters[1]).toMatchObject({ name: 'loops', tested: 30, timeouts: stuck, passed: 0 });
    expect(await recordsIn(uw, `${night.topic}_loops`)).toBe(0);
  });
});
