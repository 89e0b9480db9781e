import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTopics, topicEndOffsets } from '../../src/kafka/index.ts';
import { Replay } from '../../src/replay/index.ts';
import { addAlerts, realAlerts, renumbered, tempArchive } from '../helpers/archive.ts';
import type { RealAlert, TempArchive } from '../helpers/archive.ts';
import { cluster, kafkaFor, readTopic } from '../helpers/kafka.ts';
import { UW_BROKERS } from '../helpers/services.ts';

const uw = kafkaFor(UW_BROKERS);
const NIGHT = '20240107';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('replay of an archived night to the real broker', () => {
  let temp: TempArchive;
  let alerts: RealAlert[];
  const programid = 300_000 + Math.floor(Math.random() * 1e6);
  const topics: string[] = [];

  beforeAll(async () => {
    temp = await tempArchive();
    alerts = [...renumbered(await realAlerts(), 2000, 9_000_000_000_000_000_000n)];
    // Arrival times a second apart per hundred alerts, as exposures would come.
    for (let i = 0; i < alerts.length; i += 100) {
      await addAlerts(temp.archive, alerts.slice(i, i + 100), { night: NIGHT, programid, source: `chunk${i}`, kafkaTimestamp: 1_700_000_000_000 + i * 10 });
    }
  });

  afterAll(async () => {
    await deleteTopics(uw, topics);
    await temp.cleanup();
  });

  function newTopic(): string {
    const t = `zads-test-replay-${randomUUID().slice(0, 8)}`;
    topics.push(t);
    return t;
  }

  it('puts exactly the night\'s alerts in the target, byte-identical, with headers naming their source', async () => {
    const topic = newTopic();
    const replay = new Replay({ id: `t-${randomUUID().slice(0, 8)}`, archive: temp.archive, selection: { night: NIGHT, programid }, target: cluster(UW_BROKERS), topic, partitions: 4 });
    const report = await replay.run();
    expect(report).toMatchObject({ state: 'done', sent: alerts.length, fromArchive: alerts.length, fromLive: 0 });
    const got = await readTopic(uw, topic, alerts.length);
    expect(got).toHaveLength(alerts.length);
    const byCandid = new Map(got.map((r) => [r.message.headers!['zads-candid']!.toString(), r]));
    expect(byCandid.size).toBe(alerts.length);
    for (const a of alerts) {
      const r = byCandid.get(a.candid.toString())!;
      expect(r.valueSha256).toBe(sha(a.bytes));
      expect(r.message.key!.toString()).toBe(a.decoded.alert.objectId);
      expect(r.message.headers!['zads-source-night']!.toString()).toBe(NIGHT);
      expect(r.message.headers!['zads-replay-id']!.toString()).toBe(replay.id);
    }
  });

  it('replays exactly a time window', async () => {
    const jds = [...new Set(alerts.map((a) => a.decoded.alert.candidate.jd))].sort((a, b) => a - b);
    const fromJd = jds[Math.floor(jds.length / 3)]!;
    const toJd = jds[Math.floor((2 * jds.length) / 3)]!;
    const expected = alerts.filter((a) => a.decoded.alert.candidate.jd >= fromJd && a.decoded.alert.candidate.jd < toJd);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(alerts.length);
    const topic = newTopic();
    const report = await new Replay({ id: `w-${randomUUID().slice(0, 8)}`, archive: temp.archive, selection: { night: NIGHT, programid, fromJd, toJd }, target: cluster(UW_BROKERS), topic, partitions: 2 }).run();
    expect(report.sent).toBe(expected.length);
    const got = await readTopic(uw, topic, expected.length);
    expect(got.map((r) => r.message.headers!['zads-candid']!.toString()).sort()).toEqual(expected.map((a) => a.candid.toString()).sort());
  });

  it('keeps to a requested rate and reports what it achieved', async () => {
    const topic = newTopic();
    const report = await new Replay({
      id: `r-${randomUUID().slice(0, 8)}`,
      archive: temp.archive,
      selection: { night: NIGHT, programid },
      target: cluster(UW_BROKERS),
      topic,
      partitions: 2,
      pacing: { mode: 'rate', alertsPerSec: 200 },
      maxAlerts: 300,
    }).run();
    expect(report.sent).toBe(300);
    expect(report.requestedRate).toBe(200);
    // 300 alerts at 200/s cannot take less than the 1.5 s the schedule spreads them over.
    expect(report.seconds).toBeGreaterThanOrEqual(1.49);
    expect(report.publishLatencyMs.count).toBe(300);
  });

  it('resumes after a cancel with the same id, with no gap and no duplicate', async () => {
    const topic = newTopic();
    const id = `c-${randomUUID().slice(0, 8)}`;
    const first = new Replay({ id, archive: temp.archive, selection: { night: NIGHT, programid }, target: cluster(UW_BROKERS), topic, partitions: 3, pacing: { mode: 'rate', alertsPerSec: 1000 } });
    const running = first.run();
    await new Promise((r) => setTimeout(r, 700));
    first.cancel();
    const partial = await running;
    expect(partial.state).toBe('cancelled');
    expect(partial.sent).toBeGreaterThan(0);
    expect(partial.sent).toBeLessThan(alerts.length);
    const rest = await new Replay({ id, archive: temp.archive, selection: { night: NIGHT, programid }, target: cluster(UW_BROKERS), topic, partitions: 3 }).run();
    expect(rest.sent).toBe(alerts.length - partial.sent);
    expect(rest.sentTotal).toBe(alerts.length);
    const got = await readTopic(uw, topic, alerts.length, { digestOnly: true });
    expect(got).toHaveLength(alerts.length);
    expect(new Set(got.map((r) => r.message.headers!['zads-candid']!.toString())).size).toBe(alerts.length);
    const again = await new Replay({ id, archive: temp.archive, selection: { night: NIGHT, programid }, target: cluster(UW_BROKERS), topic }).run();
    expect(again).toMatchObject({ state: 'done', sent: 0, sentTotal: alerts.length });
  });

  // Regression: this test once allowed 500 more alerts while paused with at most 400 to send, so a no-op pause passed.
  it('sends nothing while paused, then resumes to the end', async () => {
    const topic = newTopic();
    const replay = new Replay({ id: `p-${randomUUID().slice(0, 8)}`, archive: temp.archive, selection: { night: NIGHT, programid }, target: cluster(UW_BROKERS), topic, pacing: { mode: 'rate', alertsPerSec: 100 }, maxAlerts: 400 });
    const running = replay.run();
    while (replay.status().sent < 50) await new Promise((r) => setTimeout(r, 20));
    replay.pause();
    expect(replay.status().state).toBe('paused');
    // The transaction in flight when pause came may still commit.
    await new Promise((r) => setTimeout(r, 500));
    const during = replay.status().sent;
    const admin = uw.admin();
    await admin.connect();
    try {
      const written = async () => [...(await topicEndOffsets(admin, topic)).values()].reduce((n, o) => n + o, 0n);
      const before = await written();
      // At 100 alerts/s, two seconds would send ~200 more if pausing did nothing.
      await new Promise((r) => setTimeout(r, 2000));
      expect(replay.status().sent).toBe(during);
      expect(await written()).toBe(before);
      expect(during).toBeLessThan(400);
    } finally {
      await admin.disconnect();
    }
    replay.resume();
    const report = await running;
    expect(report).toMatchObject({ state: 'done', sent: 400 });
  });
});
