import { spawn } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchive } from '../../src/archive/index.ts';
import { addAlerts, realAlerts } from '../helpers/archive.ts';
import { REPO_ROOT } from '../helpers/cli.ts';
import { startSecureKafka } from '../helpers/secure-kafka.ts';
import type { SecureKafka } from '../helpers/secure-kafka.ts';

/*
 * Defence in depth on the Kafka side (issue 18): a SASL broker running Kafka's StandardAuthorizer, the
 * replays' own principal given exactly the ACLs of ops/kafka-acls-replay.sh (the production example). A
 * replay to its prefix works; one whose target policy is overridden to a nightly topic is refused by the
 * broker itself, fails with KAFKA_NOT_AUTHORIZED (exit 2) and leaves the topic as it was. Everything runs
 * through the `zads` command and Kafka's own tools, whichever Kafka client zads uses.
 */

const NIGHT = '20180819';
const NIGHTLY = `ztf_${NIGHT}_programid1`;
const REPLAY_USER = 'zads-replay';
const REPLAY_PASSWORD = 'replay-password-5e1b';
const exec = promisify(execFile);

// The command sees only its config file: no ZADS_* variable of the environment overrides it.
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ZADS_')));

function zads(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [`${REPO_ROOT}bin/zads.js`, ...args], { cwd: REPO_ROOT, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

describe('Kafka ACLs hold the replay principal to its prefix (StandardAuthorizer, SASL/SCRAM over TLS)', () => {
  let broker: SecureKafka;
  let dir: string;
  let dataDir: string;
  let replayConfig: string;

  /** End offsets of a topic, by Kafka's own GetOffsetShell as a super user: "topic:partition:offset" lines. */
  async function endOffsets(topic: string): Promise<string> {
    const { stdout } = await exec('bash', [join(REPO_ROOT, 'ops', 'kafka-class.sh'), 'get-offsets', '--bootstrap-server', broker.internalBootstrap, '--topic', topic], {
      env: { ...process.env, ZADS_TOOLS_HEAP: '-Xmx256m' },
    });
    return stdout.trim();
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zads-replay-acl-'));
    broker = await startSecureKafka({ authorizer: true, users: [{ username: REPLAY_USER, password: REPLAY_PASSWORD }] });
    const acls = await broker.opsScript('kafka-acls-replay.sh');
    expect(acls.stdout).toContain(`User:${REPLAY_USER}`);

    // The admin (a super user) is the producer of the live nightly topic.
    const adminConfig = join(dir, 'admin.json');
    writeFileSync(adminConfig, JSON.stringify({ clusters: { ipac: broker.clusterConfig(), uw: broker.clusterConfig() } }));
    const produced = await zads(['produce', '--config', adminConfig, '--night', NIGHT, '--simulate', '4', '--partitions', '1', '--json']);
    expect(produced.code, produced.stderr).toBe(0);

    // zads serves and replays as the admin's cluster, but replays log in as their own principal (replay.sasl).
    replayConfig = join(dir, 'replay.json');
    writeFileSync(
      replayConfig,
      JSON.stringify({
        clusters: { ipac: broker.clusterConfig(), uw: broker.clusterConfig() },
        replay: { topicTemplate: 'replay_{nightTopic}', allowedTopics: ['replay_*'], sasl: { mechanism: 'scram-sha-512', username: REPLAY_USER, password: REPLAY_PASSWORD } },
      }),
    );
    dataDir = join(dir, 'data');
    const archive = await openArchive({ dataDir, writer: true });
    await addAlerts(archive, (await realAlerts()).slice(0, 3), { night: NIGHT, programid: 1 });
    await archive.close();
  }, 300_000);

  afterAll(async () => {
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('the replay principal replays to its own prefix: the ACLs of the production example are enough', async () => {
    const r = await zads(['replay', '--config', replayConfig, '--data', dataDir, '--night', NIGHT, '--partitions', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ topic: `replay_${NIGHTLY}`, state: 'done', sent: 3 });
    expect(await endOffsets(`replay_${NIGHTLY}`)).toMatch(new RegExp(`^replay_${NIGHTLY}:0:\\d+$`));
  }, 120_000);

  it('a replay overridden past our own check to a nightly topic is refused by the broker: KAFKA_NOT_AUTHORIZED, nothing written', async () => {
    const before = await endOffsets(NIGHTLY);
    expect(before).toBe(`${NIGHTLY}:0:4`);
    const r = await zads(['replay', '--config', replayConfig, '--data', dataDir, '--night', NIGHT, '--topic', NIGHTLY, '--allow-any-topic', '--id', 'acl-refused']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      new RegExp(`^zads: replay acl-refused failed: Kafka refused Kafka principal User:${REPLAY_USER} on topic ${NIGHTLY} at 127\\.0\\.0\\.1:\\d+: .*[Aa]uthoriz.*The brokers' ACLs do not allow it`, 'm'),
    );
    expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
    expect(await endOffsets(NIGHTLY)).toBe(before);
  }, 120_000);

  it('with read access to the nightly topics (--then-live), the write itself is refused: KAFKA_NOT_AUTHORIZED, nothing written', async () => {
    // The principal now sees that the topic exists, so the refusal comes from the transactional write, not from creating it.
    await broker.opsScript('kafka-acls-replay.sh', [], { ZADS_REPLAY_LIVE: '1' });
    const before = await endOffsets(NIGHTLY);
    const r = await zads(['replay', '--config', replayConfig, '--data', dataDir, '--night', NIGHT, '--topic', NIGHTLY, '--allow-any-topic', '--id', 'acl-refused-write']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^zads: replay acl-refused-write failed: Kafka refused Kafka principal User:${REPLAY_USER} on topic ${NIGHTLY} at 127\\.0\\.0\\.1:\\d+: `, 'm'));
    expect(await endOffsets(NIGHTLY)).toBe(before);
  }, 180_000);
});
