import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplayRegistry, hashToken } from '../../src/api/index.ts';
import type { ReplayView } from '../../src/api/index.ts';
import { openArchive } from '../../src/archive/index.ts';
import type { Archive } from '../../src/archive/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { deleteTopics } from '../../src/kafka/index.ts';
import { ReplayTargetPolicy } from '../../src/replay/index.ts';
import { cluster, endOffsets, kafkaFor, readTopic, topicsHolding, uniqueNightTopic } from '../helpers/kafka.ts';
import { UW_BROKERS } from '../helpers/services.ts';
import { SAMPLE_NIGHT, buildArchive, errorOf, startApi } from './fixture.ts';
import type { ApiArchive, ApiServer } from './fixture.ts';

/*
 * Issue 18: a replay token must not inject alerts into the live nightly streams or Kafka's internal
 * topics. Over real HTTP against the real "uw" broker: every refused target is checked to hold exactly
 * what it held before (end offsets unchanged) and no replay was started.
 */

const TOKENS = { ops: 'targets-ops-3f9a', fink: 'targets-fink-77c1', root: 'targets-root-a0d4' };
const uw = kafkaFor(UW_BROKERS);
const suffix = randomUUID().slice(0, 8);
/** A live nightly topic on the UW cluster (a program id no other test uses), holding a few messages. */
const nightly = uniqueNightTopic(SAMPLE_NIGHT).topic;
/** An internal-looking topic of our own: __consumer_offsets moves with every other test's commits. */
const internal = `__zads-test-targets-${suffix}`;
const filterOutput = `${nightly}_purity`;
const allowedForOps = `zads-test-targets-${suffix}`;
const allowedForFink = `fink_test-${suffix}`;

describe('replay target policy over HTTP against the real "uw" broker', () => {
  let data: ApiArchive;
  let archive: Archive;
  let api: ApiServer;
  const logged: string[] = [];
  const topics = [nightly, internal, filterOutput, allowedForOps, allowedForFink];

  beforeAll(async () => {
    const config = loadConfig({
      env: {},
      overrides: {
        'replay.allowedTopics': ['{nightTopic}_replay', 'zads-test-targets-*'],
        'api.tokens': [
          { name: 'ops', sha256: hashToken(TOKENS.ops), roles: ['replay'] },
          { name: 'fink', sha256: hashToken(TOKENS.fink), roles: ['replay'], replayTopics: ['fink_*'] },
          { name: 'root', sha256: hashToken(TOKENS.root), roles: ['admin'] },
        ],
      },
    });
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, done) => (logged.push(chunk.toString()), done()) }));
    data = await buildArchive();
    archive = await openArchive({ dataDir: data.dataDir });
    const replays = new ReplayRegistry({ archive, target: cluster(UW_BROKERS), policy: ReplayTargetPolicy.fromConfig(config, logger), logger });
    api = await startApi(data.dataDir, { replays, config: { tokens: config.api.tokens } });
    // The targets that must stay untouched exist and hold something.
    await topicsHolding(uw, [nightly, internal, filterOutput, allowedForOps], [0, 1, 2].map((i) => ({ key: `k${i}`, value: `live ${i}` })), 2);
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    await archive?.close();
    await deleteTopics(uw, topics).catch(() => undefined);
    data?.cleanup();
  });

  const post = (token: keyof typeof TOKENS, body: unknown) =>
    fetch(`${api.url}/v1/replays`, { method: 'POST', headers: { Authorization: `Bearer ${TOKENS[token]}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const get = async <T>(token: keyof typeof TOKENS, path: string): Promise<T> => (await (await fetch(`${api.url}${path}`, { headers: { Authorization: `Bearer ${TOKENS[token]}` } })).json()) as T;

  async function until(id: string, timeoutMs = 60_000): Promise<ReplayView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await get<ReplayView>('root', `/v1/replays/${id}`);
      if (['done', 'cancelled', 'failed'].includes(s.state)) return s;
      if (Date.now() > deadline) throw new Error(`replay ${id} still ${s.state} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Asks for the replay and checks it is refused with 403, the topic and rule named, and nothing written. */
  async function refused(token: keyof typeof TOKENS, topic: string, rule: string, extra: Record<string, unknown> = {}): Promise<string> {
    const before = await endOffsets(uw, topic);
    const replaysBefore = (await get<{ count: number }>('root', '/v1/replays')).count;
    const res = await post(token, { night: SAMPLE_NIGHT, topic, pacing: { mode: 'max' }, maxAlerts: 5, ...extra });
    expect(res.status).toBe(403);
    const error = await errorOf(res);
    expect(error.code).toBe('REPLAY_TOPIC_REFUSED');
    expect(error.message).toContain(`replay topic "${topic}" refused (rule ${rule}): `);
    expect(await endOffsets(uw, topic)).toEqual(before);
    expect((await get<{ count: number }>('root', '/v1/replays')).count).toBe(replaysBefore);
    return error.message;
  }

  it('a replay token is refused for a live nightly topic, a filter output and an internal topic; nothing is written', async () => {
    expect(await refused('ops', nightly, 'upstream-nightly-topic')).toContain('it is an upstream nightly topic (ztf_YYYYMMDD_programidN)');
    expect(await refused('ops', filterOutput, 'filter-output-topic')).toContain('it is a filter output topic');
    expect(await refused('ops', internal, 'internal-topic')).toContain('only an admin token with "allowAnyTopic": true, or zads replay --allow-any-topic, may write it');
    // The issue's own example; its offsets move with every other client's commits, so only the answer is checked.
    const res = await post('ops', { night: SAMPLE_NIGHT, topic: '__consumer_offsets', maxAlerts: 5 });
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ code: 'REPLAY_TOPIC_REFUSED', message: expect.stringContaining('(rule internal-topic)') });
  });

  it('a token is refused a topic outside its own allowed pattern, though the config allows it to others', async () => {
    const message = await refused('fink', allowedForOps, 'not-allowed-topic');
    expect(message).toContain('it is not among the topics token "fink" may write (api.tokens[].replayTopics): fink_*');
    // Nor the default replay topic: fink's list is its own.
    const res = await post('fink', { night: SAMPLE_NIGHT, maxAlerts: 5 });
    expect(res.status).toBe(403);
    expect((await errorOf(res)).message).toContain(`replay topic "ztf_${SAMPLE_NIGHT}_programid1_replay" refused (rule not-allowed-topic)`);
  });

  it('allowed targets work: the config pattern for one token, the token\'s own pattern for another', async () => {
    for (const [token, topic] of [['ops', allowedForOps], ['fink', allowedForFink]] as const) {
      const res = await post(token, { night: SAMPLE_NIGHT, topic, partitions: 2, maxAlerts: 5 });
      expect(res.status, await res.clone().text()).toBe(201);
      const view = (await res.json()) as ReplayView;
      expect(view).toMatchObject({ topic, startedBy: token });
      expect(await until(view.id)).toMatchObject({ state: 'done', sent: 5 });
    }
    expect(await readTopic(uw, allowedForFink, 5, { settleMs: 500 })).toHaveLength(5);
  });

  it('each token sees its own rule (GET /v1/replay-policy) and the OpenAPI document states it', async () => {
    expect(await get('ops', '/v1/replay-policy')).toEqual({
      topicTemplate: '{nightTopic}_replay',
      allowedTopics: ['{nightTopic}_replay', 'zads-test-targets-*'],
      source: 'config',
      refused: [
        { rule: 'upstream-nightly-topic', topics: 'ztf_YYYYMMDD_programidN' },
        { rule: 'filter-output-topic', topics: 'ztf_YYYYMMDD_programidN<suffix>, other than the _replay suffix' },
        { rule: 'internal-topic', topics: '__*' },
      ],
      override: 'an admin token may override the policy with "allowAnyTopic": true (logged)',
    });
    expect(await get('fink', '/v1/replay-policy')).toMatchObject({ allowedTopics: ['fink_*'], source: 'token' });
    const doc = await get<{ paths: Record<string, Record<string, { description?: string; requestBody?: { content: Record<string, { schema: { properties: Record<string, { description?: string }> } }> }; responses: Record<string, { description: string }> }>> }>('ops', '/v1/openapi.json');
    expect(doc.paths['/v1/replay-policy']?.get).toBeDefined();
    const start = doc.paths['/v1/replays']!.post!;
    expect(start.responses['403']!.description).toContain('REPLAY_TOPIC_REFUSED');
    const body = start.requestBody!.content['application/json']!.schema.properties;
    expect(body.topic!.description).toContain('upstream nightly topics (ztf_YYYYMMDD_programidN)');
    expect(body.allowAnyTopic!.description).toContain('Admin tokens only');
  });

  it('only an admin token with the explicit override writes a nightly topic, and the log names it', async () => {
    // The override is for admins only; without it an admin is refused like anyone.
    const notAdmin = await post('ops', { night: SAMPLE_NIGHT, topic: nightly, maxAlerts: 5, allowAnyTopic: true });
    expect(notAdmin.status).toBe(403);
    expect(await errorOf(notAdmin)).toEqual({ code: 'FORBIDDEN', message: '"allowAnyTopic" needs a token with the "admin" role, which token "ops" does not have' });
    await refused('root', nightly, 'upstream-nightly-topic');

    const before = await endOffsets(uw, nightly);
    const res = await post('root', { night: SAMPLE_NIGHT, topic: nightly, maxAlerts: 5, allowAnyTopic: true });
    expect(res.status, await res.clone().text()).toBe(201);
    const view = (await res.json()) as ReplayView;
    expect(await until(view.id)).toMatchObject({ state: 'done', sent: 5, topic: nightly });
    const after = await endOffsets(uw, nightly);
    expect(after.reduce((n, o) => n + Number(o), 0)).toBeGreaterThan(before.reduce((n, o) => n + Number(o), 0));
    expect(await readTopic(uw, nightly, 3 + 5, { settleMs: 500 })).toHaveLength(8);
    const warnings = logged.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 40);
    expect(warnings).toContainEqual(
      expect.objectContaining({ caller: 'token "root"', topic: nightly, rule: 'upstream-nightly-topic', msg: `replay target policy overridden by token "root": writing ${nightly}, which breaks upstream-nightly-topic` }),
    );
  });
});
