import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplayRegistry, hashToken } from '../../src/api/index.ts';
import type { ReplayView } from '../../src/api/index.ts';
import { openArchive } from '../../src/archive/index.ts';
import { ReplayTargetPolicy } from '../../src/replay/index.ts';
import type { Archive } from '../../src/archive/index.ts';
import { deleteTopics } from '../../src/kafka/index.ts';
import { cluster, kafkaFor, readTopic } from '../helpers/kafka.ts';
import { UW_BROKERS } from '../helpers/services.ts';
import { SAMPLE_NIGHT, buildArchive, errorOf, startApi } from './fixture.ts';
import type { ApiArchive, ApiServer } from './fixture.ts';

const TOKEN = 'replay-test-token-9c2e';
const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };
const uw = kafkaFor(UW_BROKERS);

describe('replay control over HTTP against the real "uw" broker', () => {
  let data: ApiArchive;
  let archive: Archive;
  let api: ApiServer;
  const topics: string[] = [];

  beforeAll(async () => {
    data = await buildArchive();
    archive = await openArchive({ dataDir: data.dataDir });
    const replays = new ReplayRegistry({ archive, target: cluster(UW_BROKERS), policy: new ReplayTargetPolicy({ allowedTopics: ['{nightTopic}_replay', 'zads-test-*'] }), maxActive: 1 });
    api = await startApi(data.dataDir, { replays, config: { tokens: [{ name: 'ops', sha256: hashToken(TOKEN), roles: ['replay'] }] } });
  });

  afterAll(async () => {
    await api?.stop();
    await archive?.close();
    await deleteTopics(uw, topics).catch(() => undefined);
    data?.cleanup();
  });

  const post = (path: string, body?: unknown) => fetch(`${api.url}${path}`, { method: 'POST', headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
  const status = async (id: string) => (await (await fetch(`${api.url}/v1/replays/${id}`, { headers: auth })).json()) as ReplayView;

  async function until(id: string, states: string[], timeoutMs = 60_000): Promise<ReplayView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await status(id);
      if (states.includes(s.state)) return s;
      if (Date.now() > deadline) throw new Error(`replay ${id} still ${s.state} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('start → status → pause → resume → cancel; the id cannot run twice', async () => {
    const topic = `zads-test-api-replay-${randomUUID().slice(0, 8)}`;
    topics.push(topic);
    const id = `api-${randomUUID().slice(0, 8)}`;
    const started = await post('/v1/replays', { id, night: SAMPLE_NIGHT, topic, partitions: 2, pacing: { mode: 'rate', alertsPerSec: 5 } });
    expect(started.status).toBe(201);
    expect(started.headers.get('location')).toBe(`/v1/replays/${id}`);
    const view = (await started.json()) as ReplayView;
    expect(view).toMatchObject({ id, topic, state: 'running', requestedRate: 5, startedBy: 'ops', selection: { night: SAMPLE_NIGHT, programid: 1 } });

    const again = await post('/v1/replays', { id, night: SAMPLE_NIGHT, topic });
    expect(again.status).toBe(409);
    expect((await errorOf(again)).code).toBe('CONFLICT');
    const another = await post('/v1/replays', { night: SAMPLE_NIGHT, topic });
    expect(another.status).toBe(429);
    expect((await errorOf(another)).code).toBe('TOO_MANY_REPLAYS');

    // Let a few alerts go out, then steer it.
    const deadline = Date.now() + 60_000;
    while ((await status(id)).sent < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const paused = await post(`/v1/replays/${id}/pause`);
    expect(paused.status).toBe(200);
    expect(((await paused.json()) as ReplayView).state).toBe('paused');
    const resumed = await post(`/v1/replays/${id}/resume`);
    expect(((await resumed.json()) as ReplayView).state).toBe('running');
    const cancelled = await post(`/v1/replays/${id}/cancel`);
    expect(cancelled.status).toBe(202);
    const end = await until(id, ['cancelled', 'done', 'failed']);
    expect(end.state).toBe('cancelled');
    expect(end.sent).toBeGreaterThanOrEqual(2);
    expect(end.sent).toBeLessThan(30);
    expect(end.achievedRate).toBeGreaterThan(0);

    const list = (await (await fetch(`${api.url}/v1/replays`, { headers: auth })).json()) as { count: number; replays: ReplayView[] };
    expect(list.replays.map((r) => r.id)).toContain(id);
  });

  it('a replay run to its end puts the night\'s alerts in the topic, byte for byte', async () => {
    const topic = `zads-test-api-replay-${randomUUID().slice(0, 8)}`;
    topics.push(topic);
    const res = await post('/v1/replays', { night: SAMPLE_NIGHT, topic, partitions: 2 });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as ReplayView;
    const end = await until(id, ['done', 'failed', 'cancelled']);
    expect(end).toMatchObject({ state: 'done', sent: 30, fromArchive: 30 });
    const got = await readTopic(uw, topic, 30, { withCandid: true, settleMs: 500 });
    expect(got.map((r) => r.candid).sort()).toEqual(data.sample.map((a) => a.candid.toString()).sort());
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(new Set(got.map((r) => r.valueSha256))).toEqual(new Set(data.sample.map((a) => sha(a.bytes))));
  });

  it('404 for a night not in the archive and for an unknown replay', async () => {
    const res = await post('/v1/replays', { night: '20000101' });
    expect(res.status).toBe(404);
    expect((await fetch(`${api.url}/v1/replays/nope`, { headers: auth })).status).toBe(404);
  });
});
