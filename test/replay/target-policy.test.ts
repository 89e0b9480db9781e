import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { isZadsError } from '../../src/errors.ts';
import { ZadsError } from '../../src/errors.ts';
import { isKafkaAuthorizationError, kafkaAuthorizationError } from '../../src/kafka/errors.ts';
import { NIGHT_TOPIC_PATTERN } from '../../src/kafka/index.ts';
import { Replay, ReplayTargetPolicy, checkReplayTarget, protectedTopicRule } from '../../src/replay/index.ts';
import type { TargetRequest } from '../../src/replay/index.ts';

const NIGHT = '20311224';
const NIGHT_TOPIC = `ztf_${NIGHT}_programid1`;

function refusal(policy: ReplayTargetPolicy, request: Omit<TargetRequest, 'night' | 'programid' | 'caller'>): ZadsError {
  try {
    policy.resolve({ night: NIGHT, programid: 1, caller: 'test', ...request });
  } catch (err) {
    if (isZadsError(err)) return err;
    throw err;
  }
  throw new Error(`${request.topic} was not refused`);
}

function capture(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('replay target policy', () => {
  it('refuses upstream nightly topics, filter outputs and internal topics whatever the patterns allow', () => {
    const policy = new ReplayTargetPolicy({ allowedTopics: ['*'] });
    expect(refusal(policy, { topic: NIGHT_TOPIC })).toMatchObject({ code: 'REPLAY_TOPIC_REFUSED', context: { topic: NIGHT_TOPIC, rule: 'upstream-nightly-topic' } });
    expect(refusal(policy, { topic: 'ztf_20240101_programid2' }).context.rule).toBe('upstream-nightly-topic');
    expect(refusal(policy, { topic: `${NIGHT_TOPIC}_purity` }).context.rule).toBe('filter-output-topic');
    expect(refusal(policy, { topic: `${NIGHT_TOPIC}.sn` }).context.rule).toBe('filter-output-topic');
    expect(refusal(policy, { topic: '__consumer_offsets' }).context.rule).toBe('internal-topic');
    expect(refusal(policy, { topic: '__transaction_state' }).context.rule).toBe('internal-topic');
    const e = refusal(policy, { topic: NIGHT_TOPIC });
    expect(e.message).toBe(
      `replay topic "${NIGHT_TOPIC}" refused (rule upstream-nightly-topic): it is an upstream nightly topic (ztf_YYYYMMDD_programidN): the live stream the mirror writes and the archive, the filters and every broker read; ` +
        'only an admin token with "allowAnyTopic": true, or zads replay --allow-any-topic, may write it',
    );
    expect(policy.resolve({ night: NIGHT, programid: 1, caller: 'test', topic: 'anything-else' })).toEqual({ topic: 'anything-else', overridden: false });
  });

  it('uses the project\'s nightly topic pattern, not a copy of it', () => {
    // Every name NIGHT_TOPIC_PATTERN accepts is refused as upstream, whatever the program number.
    for (const topic of ['ztf_20180819_programid0', 'ztf_20180819_programid1', 'ztf_20180819_programid2', 'ztf_20180819_programid42']) {
      expect(NIGHT_TOPIC_PATTERN.test(topic)).toBe(true);
      expect(protectedTopicRule(topic)?.rule).toBe('upstream-nightly-topic');
    }
    expect(protectedTopicRule(`${NIGHT_TOPIC}_replay`)).toBeUndefined();
    expect(protectedTopicRule('ztf_2018_programid1')).toBeUndefined();
  });

  it('by default allows only the night\'s replay topic, which is also the default topic', () => {
    const policy = new ReplayTargetPolicy();
    expect(policy.resolve({ night: NIGHT, programid: 1, caller: 'test' })).toEqual({ topic: `${NIGHT_TOPIC}_replay`, overridden: false });
    expect(policy.resolve({ night: NIGHT, programid: 1, caller: 'test', topic: `${NIGHT_TOPIC}_replay` }).topic).toBe(`${NIGHT_TOPIC}_replay`);
    const other = refusal(policy, { topic: 'ztf_20311225_programid1_replay' });
    expect(other.context.rule).toBe('not-allowed-topic');
    expect(other.message).toContain(`it is not among the topics replays may write (replay.allowedTopics): ${NIGHT_TOPIC}_replay`);
    expect(refusal(policy, { topic: 'elsewhere' }).context.rule).toBe('not-allowed-topic');
  });

  it('patterns: "*" is any run of topic characters, {nightTopic} the night\'s topic; a token\'s own list replaces the config\'s', () => {
    const policy = new ReplayTargetPolicy({ allowedTopics: ['{nightTopic}_replay', 'replay.*'], tokenTopics: { fink: ['fink_*'] } });
    expect(policy.resolve({ night: NIGHT, programid: 1, caller: 'x', topic: 'replay.a-b_c.1' }).topic).toBe('replay.a-b_c.1');
    expect(refusal(policy, { topic: 'replayx' }).context.rule).toBe('not-allowed-topic');
    expect(policy.resolve({ night: NIGHT, programid: 1, caller: 'fink', token: 'fink', topic: 'fink_recovery' }).topic).toBe('fink_recovery');
    const fink = refusal(policy, { token: 'fink', topic: 'replay.mine' });
    expect(fink.message).toContain('it is not among the topics token "fink" may write (api.tokens[].replayTopics): fink_*');
    expect(refusal(policy, { token: 'fink' }).context).toMatchObject({ topic: `${NIGHT_TOPIC}_replay`, rule: 'not-allowed-topic' });
    // A pattern never reaches a protected topic.
    expect(refusal(new ReplayTargetPolicy({ tokenTopics: { x: ['ztf_*'] } }), { token: 'x', topic: NIGHT_TOPIC }).context.rule).toBe('upstream-nightly-topic');
    expect(policy.view('fink', false)).toMatchObject({ allowedTopics: ['fink_*'], source: 'token', topicTemplate: '{nightTopic}_replay' });
    expect(policy.view('other', true)).toMatchObject({ allowedTopics: ['{nightTopic}_replay', 'replay.*'], source: 'config' });
  });

  it('an override lets a refused topic through and logs a warning naming who and what', () => {
    const { logger, lines } = capture();
    const policy = new ReplayTargetPolicy({ logger });
    expect(policy.resolve({ night: NIGHT, programid: 1, caller: 'token "root"', token: 'root', topic: NIGHT_TOPIC, override: true })).toEqual({ topic: NIGHT_TOPIC, overridden: true });
    expect(lines()).toEqual([
      expect.objectContaining({ level: 40, caller: 'token "root"', topic: NIGHT_TOPIC, rule: 'upstream-nightly-topic', msg: `replay target policy overridden by token "root": writing ${NIGHT_TOPIC}, which breaks upstream-nightly-topic` }),
    ]);
    // An override on an allowed topic changes nothing and says nothing.
    expect(policy.resolve({ night: NIGHT, programid: 1, caller: 'x', override: true })).toEqual({ topic: `${NIGHT_TOPIC}_replay`, overridden: false });
    expect(lines()).toHaveLength(1);
  });

  it('the engine refuses a protected topic itself, before any Kafka client, unless the policy overrode it', () => {
    expect(() => checkReplayTarget('__consumer_offsets', undefined)).toThrow(/replay topic "__consumer_offsets" refused \(rule internal-topic\)/);
    expect(() => checkReplayTarget(NIGHT_TOPIC, true)).not.toThrow();
    expect(() => checkReplayTarget('zads-test-anything', false)).not.toThrow();
    const options = { id: 'x', archive: {} as never, selection: { night: NIGHT, programid: 1 }, target: { brokers: ['127.0.0.1:1'], clientId: 'x', connectionTimeoutMs: 1, requestTimeoutMs: 1 } };
    expect(() => new Replay({ ...options, topic: NIGHT_TOPIC })).toThrow(expect.objectContaining({ code: 'REPLAY_TOPIC_REFUSED' }));
  });
});

describe('replay target policy in the config', () => {
  it('defaults, file and environment', () => {
    const c = loadConfig({ env: {} });
    expect(c.replay).toEqual({ topicTemplate: '{nightTopic}_replay', allowedTopics: ['{nightTopic}_replay'] });
    const e = loadConfig({ env: { ZADS_REPLAY_ALLOWED_TOPICS: '{nightTopic}_replay, replay.*', ZADS_REPLAY_TOPIC_TEMPLATE: 'replay.{nightTopic}' } });
    expect(e.replay).toMatchObject({ topicTemplate: 'replay.{nightTopic}', allowedTopics: ['{nightTopic}_replay', 'replay.*'] });
    const policy = ReplayTargetPolicy.fromConfig(
      loadConfig({ env: {}, overrides: { 'api.tokens': [{ name: 'fink', sha256: '0'.repeat(64), roles: ['replay'], replayTopics: ['fink_*'] }] } }),
    );
    expect(policy.view('fink', false).allowedTopics).toEqual(['fink_*']);
  });

  it('names the bad key', () => {
    expect(() => loadConfig({ env: { ZADS_REPLAY_TOPIC_TEMPLATE: '{nightTopic}' } })).toThrow(
      /replay\.topicTemplate: names topics like ztf_20180819_programid1, which no replay may write: it is an upstream nightly topic/,
    );
    expect(() => loadConfig({ env: { ZADS_REPLAY_TOPIC_TEMPLATE: '{nightTopic}_rp' } })).toThrow(/replay\.topicTemplate: .*filter output topic/);
    expect(() => loadConfig({ env: { ZADS_REPLAY_ALLOWED_TOPICS: 'replay.*' } })).toThrow(
      /replay\.topicTemplate: names topics like ztf_20180819_programid1_replay, which replay\.allowedTopics \(replay\.\*\) does not allow/,
    );
    expect(() => loadConfig({ env: { ZADS_REPLAY_ALLOWED_TOPICS: 'bad topic' } })).toThrow(/replay\.allowedTopics\.0: a topic pattern is/);
    expect(() => loadConfig({ env: {}, overrides: { 'replay.colour': 'red' } })).toThrow(/Unrecognized key: "colour"/);
    const token = { sha256: '0'.repeat(64), roles: ['replay'] };
    expect(() => loadConfig({ env: {}, overrides: { 'api.tokens': [{ name: 'a', ...token, replayTopics: ['a b'] }] } })).toThrow(/api\.tokens\.0\.replayTopics\.0/);
    expect(() => loadConfig({ env: {}, overrides: { 'api.tokens': [{ name: 'a', ...token }, { name: 'a', ...token }] } })).toThrow(/api\.tokens\.1\.name: token name "a" is used twice/);
  });
});

describe('Kafka ACL refusals, from either client', () => {
  it('kafkajs: a protocol error, wrapped or aggregated', () => {
    const protocol = Object.assign(new Error('Not authorized to access topics: [Topic authorization failed]'), { name: 'KafkaJSProtocolError', type: 'TOPIC_AUTHORIZATION_FAILED', code: 29 });
    const wrapped = Object.assign(new Error('retries exceeded'), { name: 'KafkaJSNonRetriableError', cause: protocol });
    const aggregate = Object.assign(new Error('aggregate'), { name: 'KafkaJSAggregateError', errors: [protocol] });
    const ours = new ZadsError('SERVICE_UNAVAILABLE', 'cannot create topic x', { cause: aggregate });
    for (const err of [protocol, wrapped, aggregate, ours]) expect(isKafkaAuthorizationError(err)).toBe(true);
    const e = kafkaAuthorizationError(ours, { topic: NIGHT_TOPIC, user: 'zads-replay', brokers: ['b:1'] })!;
    expect(e.code).toBe('KAFKA_NOT_AUTHORIZED');
    expect(e.message).toMatch(new RegExp(`^Kafka refused Kafka principal User:zads-replay on topic ${NIGHT_TOPIC} at b:1: Not authorized to access topics`));
    expect(kafkaAuthorizationError(Object.assign(new Error('x'), { type: 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED' }))!.context.refused).toBe('transactional id');
  });

  it('@confluentinc/kafka-javascript (librdkafka): code 29, ERR_ type, "Broker: Topic authorization failed"', () => {
    const rd = Object.assign(new Error('Broker: Topic authorization failed'), { name: 'KafkaJSError', code: 29, type: 'ERR_TOPIC_AUTHORIZATION_FAILED' });
    expect(kafkaAuthorizationError(rd, { topic: 't' })!.message).toContain('on topic t: Broker: Topic authorization failed');
    const bare = Object.assign(new Error('Broker: Topic authorization failed'), { code: 29 });
    expect(isKafkaAuthorizationError(bare)).toBe(true);
    expect(isKafkaAuthorizationError(Object.assign(new Error('Broker: Group authorization failed'), { name: 'LibrdKafkaError', code: 30 }))).toBe(true);
  });

  it('anything else is left alone', () => {
    expect(kafkaAuthorizationError(new Error('connection refused'))).toBeUndefined();
    expect(kafkaAuthorizationError(Object.assign(new Error('x'), { code: 29 }))).toBeUndefined();
    expect(kafkaAuthorizationError(Object.assign(new Error('x'), { type: 'NOT_LEADER_FOR_PARTITION', code: 6 }))).toBeUndefined();
    expect(kafkaAuthorizationError(undefined)).toBeUndefined();
  });
});
