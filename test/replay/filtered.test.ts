import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplayRegistry, hashToken } from '../../src/api/index.ts';
import { ReplayTargetPolicy } from '../../src/replay/index.ts';
import type { ReplayView } from '../../src/api/index.ts';
import { openArchive } from '../../src/archive/index.ts';
import type { Archive } from '../../src/archive/index.ts';
import { bright, createJudge, purity } from '../../src/filter/index.ts';
import { deleteTopics } from '../../src/kafka/index.ts';
import { Replay } from '../../src/replay/index.ts';
import type { ReplayReport } from '../../src/replay/index.ts';
import { SAMPLE_NIGHT, buildArchive, startApi } from '../api/fixture.ts';
import type { ApiArchive, ApiServer } from '../api/fixture.ts';
import { addAlerts, tempArchive } from '../helpers/archive.ts';
import type { TempArchive } from '../helpers/archive.ts';
import { runZads } from '../helpers/cli.ts';
import { cluster, kafkaFor, readTopic } from '../helpers/kafka.ts';
import { venvPython } from '../helpers/python.ts';
import { UW_BROKERS } from '../helpers/services.ts';
import { tarballAlerts } from '../filter/helpers.ts';
import type { SampleAlert } from '../filter/helpers.ts';

/** The tests' replay topics are zads-test-*: the target policy must allow them. */
const TEST_POLICY = new ReplayTargetPolicy({ allowedTopics: ['{nightTopic}_replay', 'zads-test-*'] });

const uw = kafkaFor(UW_BROKERS);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const ctx = { source: {}, signal: new AbortController().signal };
const PREDEFINED_PY = new URL('../../src/filter/python/predefined/', import.meta.url).pathname;
const PURITY_PY = `${PREDEFINED_PY}purity.py`;
const TOKEN = 'replay-filter-token-41d7';

describe('replay through filters: only the passing alerts are re-published', () => {
  let temp: TempArchive;
  let alerts: SampleAlert[];
  let pure: SampleAlert[];
  const topics: string[] = [];

  beforeAll(async () => {
    temp = await tempArchive();
    alerts = await tarballAlerts();
    // The sample night as the archive ingest would hold it, in two segments.
    const real = alerts.map((a) => ({ bytes: a.bytes, decoded: a.decoded, candid: a.decoded.alert.candid }));
    await addAlerts(temp.archive, real.slice(0, 15), { night: SAMPLE_NIGHT, programid: 1, source: 'p0', kafkaTimestamp: 1_534_650_000_000 });
    await addAlerts(temp.archive, real.slice(15), { night: SAMPLE_NIGHT, programid: 1, source: 'p1', kafkaTimestamp: 1_534_650_001_000 });
    pure = alerts.filter((a) => purity.test(a.decoded.alert, ctx) === true);
    expect(pure.length).toBeGreaterThan(0);
    expect(pure.length).toBeLessThan(alerts.length);
  });

  afterAll(async () => {
    await deleteTopics(uw, topics).catch(() => undefined);
    await temp.cleanup();
  });

  const newTopic = (): string => {
    const t = `zads-test-replay-filter-${randomUUID().slice(0, 8)}`;
    topics.push(t);
    return t;
  };

  /** The topic holds exactly `expected`, each once, byte-identical (read_committed). */
  async function expectExactly(topic: string, expected: SampleAlert[]): Promise<void> {
    const got = await readTopic(uw, topic, expected.length, { settleMs: 1500 });
    expect(got).toHaveLength(expected.length);
    const candids = got.map((r) => r.message.headers!['zads-candid']!.toString());
    expect(new Set(candids).size).toBe(candids.length);
    expect(candids.sort()).toEqual(expected.map((a) => a.candid).sort());
    const bytesOf = new Map(expected.map((a) => [a.candid, sha(a.bytes)]));
    for (const r of got) expect(r.valueSha256).toBe(bytesOf.get(r.message.headers!['zads-candid']!.toString()));
  }

  it('the sample night through the Python purity filter puts exactly the passing candids on the topic, once each', async () => {
    const topic = newTopic();
    const judge = await createJudge([PURITY_PY], { python: { python: venvPython(), workers: 2 } });
    let report: ReplayReport;
    try {
      const replay = new Replay({ id: `pyf-${randomUUID().slice(0, 8)}`, archive: temp.archive, selection: { night: SAMPLE_NIGHT, programid: 1 }, target: cluster(UW_BROKERS), topic, partitions: 2, filter: judge });
      report = await replay.run();
    } finally {
      await judge.close();
    }
    expect(report).toMatchObject({ state: 'done', sent: pure.length, fromArchive: pure.length });
    expect(report.filter).toMatchObject({ names: ['purity'], judged: 30, passed: pure.length, failed: 30 - pure.length, undecodable: 0 });
    expect(report.filter!.filters[0]).toMatchObject({ name: 'purity', tested: 30, passed: pure.length, errors: 0, timeouts: 0 });
    await expectExactly(topic, pure);
  });

  it('zads replay --filter (repeatable, any passes): a Python and a TypeScript filter', async () => {
    const topic = newTopic();
    const either = alerts.filter((a) => purity.test(a.decoded.alert, ctx) === true || bright.test(a.decoded.alert, ctx) === true);
    const r = runZads(
      ['replay', '--data', temp.dataDir, '--night', SAMPLE_NIGHT, '--brokers', UW_BROKERS.join(','), '--topic', topic, '--partitions', '2', '--filter', PURITY_PY, '--filter', 'bright', '--python', venvPython(), '--json'],
      { env: { ZADS_LOG_LEVEL: 'warn', ZADS_REPLAY_ALLOWED_TOPICS: '{nightTopic}_replay,zads-test-*' } },
    );
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as ReplayReport;
    expect(report).toMatchObject({ state: 'done', sent: either.length });
    expect(report.filter).toMatchObject({ names: ['purity', 'bright'], judged: 30, passed: either.length, failed: 30 - either.length });
    await expectExactly(topic, either);
  });

  it('zads replay refuses a filter that does not load before sending anything', () => {
    const r = runZads(['replay', '--data', temp.dataDir, '--night', SAMPLE_NIGHT, '--brokers', UW_BROKERS.join(','), '--filter', `${PREDEFINED_PY}nope.py`, '--python', venvPython()]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${PREDEFINED_PY}nope.py does not exist`);
  });
});

describe('POST /v1/replays with filters', () => {
  let data: ApiArchive;
  let api: ApiServer;
  let restricted: ApiServer;
  let archive: Archive;
  const topics: string[] = [];
  const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };
  const tokens = [{ name: 'ops', sha256: hashToken(TOKEN), roles: ['replay' as const] }];

  beforeAll(async () => {
    data = await buildArchive();
    archive = await openArchive({ dataDir: data.dataDir });
    api = await startApi(data.dataDir, { replays: new ReplayRegistry({ archive, target: cluster(UW_BROKERS), policy: TEST_POLICY, filterDir: PREDEFINED_PY, python: { python: venvPython(), workers: 2 } }), config: { tokens } });
    restricted = await startApi(data.dataDir, { replays: new ReplayRegistry({ archive, target: cluster(UW_BROKERS), policy: TEST_POLICY }), config: { tokens } });
  });

  afterAll(async () => {
    await api?.stop();
    await restricted?.stop();
    await archive?.close();
    await deleteTopics(uw, topics).catch(() => undefined);
    data?.cleanup();
  });

  it('re-publishes only the passing alerts and reports judged, passed, failed', async () => {
    const topic = `zads-test-api-replay-filter-${randomUUID().slice(0, 8)}`;
    topics.push(topic);
    const res = await fetch(`${api.url}/v1/replays`, { method: 'POST', headers: auth, body: JSON.stringify({ night: SAMPLE_NIGHT, topic, partitions: 2, filters: ['purity.py'] }) });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as ReplayView;
    let view: ReplayView;
    const deadline = Date.now() + 60_000;
    do {
      await new Promise((r) => setTimeout(r, 100));
      view = (await (await fetch(`${api.url}/v1/replays/${id}`, { headers: auth })).json()) as ReplayView;
    } while (view.state === 'running' && Date.now() < deadline);
    const pure = data.sample.filter((a) => purity.test(a.decoded.alert, ctx) === true);
    expect(view).toMatchObject({ state: 'done', sent: pure.length });
    expect(view.filter).toMatchObject({ names: ['purity'], judged: 30, passed: pure.length, failed: 30 - pure.length });
    const got = await readTopic(uw, topic, pure.length, { withCandid: true, settleMs: 1000 });
    expect(got.map((r) => r.candid).sort()).toEqual(pure.map((a) => a.candid.toString()).sort());
  });

  it('400 for a filter that is not one, or a module where the server allows none', async () => {
    const post = (url: string, filters: string[]) => fetch(`${url}/v1/replays`, { method: 'POST', headers: auth, body: JSON.stringify({ night: SAMPLE_NIGHT, filters }) });
    const unknown = await post(api.url, ['nope']);
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/unknown filter "nope"/);
    const missing = await post(api.url, ['nope.py']);
    expect(missing.status).toBe(400);
    const path = await post(api.url, ['../purity.py']);
    expect(path.status).toBe(400);
    const notAllowed = await post(restricted.url, ['purity.py']);
    expect(notAllowed.status).toBe(400);
    expect(((await notAllowed.json()) as { error: { message: string } }).error.message).toMatch(/predefined filters only/);
  });
});
