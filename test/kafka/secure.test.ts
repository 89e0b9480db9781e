import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KafkaClient as Kafka } from '../../src/kafka/index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePayload } from '../../src/alert/index.ts';
import { CATALOGUE_FILE, Catalogue, openArchive } from '../../src/archive/index.ts';
import { clusterSchema } from '../../src/config/index.ts';
import { purity } from '../../src/filter/index.ts';
import { createKafka } from '../../src/kafka/index.ts';
import { addAlerts, realAlerts } from '../helpers/archive.ts';
import { REPO_ROOT } from '../helpers/cli.ts';
import { readTopic } from '../helpers/kafka.ts';
import type { ReadRecord } from '../helpers/kafka.ts';
import { startSecureKafka } from '../helpers/secure-kafka.ts';
import type { SecureKafka } from '../helpers/secure-kafka.ts';

/*
 * Two dedicated brokers, "ipac" and "uw", each with only a SASL_SSL client listener (SCRAM-SHA-512),
 * each with its own certificate authority and its own password, so that a client that took the wrong
 * cluster's settings would fail. Every client kind runs through the `zads` command with a config file.
 */

const NIGHT = '20240301';
const TOPIC = `ztf_${NIGHT}_programid1`;
const ALERTS = 40;
const WRONG_PASSWORD = 'not-the-password';

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Running {
  stop(): void;
  done: Promise<Finished>;
}

// The command sees only its config file: no ZADS_* variable of the environment overrides it.
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ZADS_')));

/** Runs `zads` as a user would (the package's bin), stdout and stderr apart. */
function zads(args: readonly string[]): Running {
  const child = spawn(process.execPath, [`${REPO_ROOT}bin/zads.js`, ...args], { cwd: REPO_ROOT, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Finished>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
    done,
  };
}

function writeConfig(dir: string, name: string, config: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

function kafkaOf(broker: SecureKafka): Kafka {
  return createKafka(clusterSchema.parse({ ...broker.clusterConfig(), clientId: 'zads-test' }));
}

function archivedCount(dataDir: string): number {
  try {
    const catalogue = new Catalogue(join(dataDir, CATALOGUE_FILE), { readonly: true });
    try {
      return catalogue.countNight(NIGHT, 1).alerts;
    } finally {
      catalogue.close();
    }
  } catch {
    return 0; // not created yet
  }
}

const sorted = (records: readonly ReadRecord[]): string[] => records.map((r) => `${r.candid}:${r.valueSha256}`).sort();

describe('Kafka security: SASL/SCRAM-SHA-512 over TLS, from the config file', () => {
  let ipac: SecureKafka;
  let uw: SecureKafka;
  let dir: string;
  let goodConfig: string;
  let wrongPasswordConfig: string;
  let noCaConfig: string;
  /** An archive with a few real alerts of night 20180819, for the replays that must fail. */
  let replayData: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zads-secure-'));
    const started = await Promise.allSettled([startSecureKafka(), startSecureKafka()]);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
      throw failed.reason;
    }
    [ipac, uw] = started.map((r) => (r as PromiseFulfilledResult<SecureKafka>).value) as [SecureKafka, SecureKafka];
    goodConfig = writeConfig(dir, 'good.json', {
      clusters: { ipac: ipac.clusterConfig(), uw: uw.clusterConfig() },
    });
    wrongPasswordConfig = writeConfig(dir, 'wrong-password.json', {
      clusters: { ipac: ipac.clusterConfig({ password: WRONG_PASSWORD }), uw: uw.clusterConfig({ password: WRONG_PASSWORD }) },
    });
    noCaConfig = writeConfig(dir, 'no-ca.json', {
      clusters: { ipac: ipac.clusterConfig({ caFile: null }), uw: uw.clusterConfig({ caFile: null }) },
    });
    replayData = join(dir, 'replay-data');
    const archive = await openArchive({ dataDir: replayData, writer: true });
    await addAlerts(archive, (await realAlerts()).slice(0, 3), { night: '20180819', programid: 1 });
    await archive.close();
  }, 300_000);

  afterAll(async () => {
    await Promise.all([ipac?.stop(), uw?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('produce, mirror, archive ingest, a filter and replay each authenticate and do their work', async () => {
    const dataDir = join(dir, 'data');
    const produced = await zads(['produce', '--config', goodConfig, '--night', NIGHT, '--simulate', String(ALERTS), '--partitions', '2', '--json']).done;
    expect(produced.code, produced.stderr).toBe(0);
    expect(JSON.parse(produced.stdout)).toMatchObject({ alerts: ALERTS, skipped: 0 });

    const ipacKafka = kafkaOf(ipac);
    const uwKafka = kafkaOf(uw);
    const source = await readTopic(ipacKafka, TOPIC, ALERTS, { withCandid: true, settleMs: 0 });
    expect(source).toHaveLength(ALERTS);
    const pure: ReadRecord[] = [];
    for (const r of source) {
      const [{ alert }] = await decodePayload(r.message.value!);
      if (await purity.test(alert!, { source: {}, signal: new AbortController().signal })) pure.push(r);
    }
    expect(pure.length).toBeGreaterThan(0);

    const pattern = `^${TOPIC}$`;
    const mirror = zads(['mirror', '--config', goodConfig, '--topics', pattern, '--name', 'secure']);
    let archive: Running | undefined;
    let filter: Running | undefined;
    const running = () => [mirror, archive, filter].filter((r): r is Running => r !== undefined);
    try {
      const mirrored = await readTopic(uwKafka, TOPIC, ALERTS, { withCandid: true });
      expect(sorted(mirrored)).toEqual(sorted(source));
      // Archive and filter start on the mirrored night (what they do while topics appear is tested elsewhere).
      archive = zads(['archive', 'run', '--config', goodConfig, '--data', dataDir, '--topics', pattern, '--no-schedule']);
      filter = zads(['filter', '--config', goodConfig, '--filter', 'purity', '--topics', pattern, '--name', 'secure']);
      const filtered = await readTopic(uwKafka, `${TOPIC}_purity`, pure.length, { withCandid: true });
      expect(sorted(filtered)).toEqual(sorted(pure));
      while (archivedCount(dataDir) < ALERTS) await new Promise((resolve) => setTimeout(resolve, 500));
    } catch (err) {
      // What the commands said is what explains a failure here.
      for (const r of running()) r.stop();
      const said = await Promise.all(running().map(async (r, i) => ({ name: ['mirror', 'archive run', 'filter'][i], ...(await r.done) })));
      throw new Error(`${(err as Error).message}\n${said.map((r) => `---- zads ${r.name} (exit ${r.code}):\n${r.stdout}${r.stderr}`).join('\n')}`, { cause: err });
    } finally {
      for (const r of running()) r.stop();
    }
    const [m, a, f] = await Promise.all([mirror.done, archive.done, filter.done]);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stderr).toContain(`zads mirror: mirroring ${pattern} from ${ipac.brokers[0]} to ${uw.brokers[0]}`);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toContain(`zads archive run: stopped; ${ALERTS} alerts archived, 0 duplicates, 0 quarantined`);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toContain(`${ALERTS} record(s) consumed from 1 topic(s)`);
    expect(f.stdout).toContain(`purity 1.0.0: ${pure.length} of ${ALERTS} alert(s) passed, 0 error(s), 0 timeout(s); ${pure.length} record(s) written`);

    const replay = await zads(['replay', '--config', goodConfig, '--data', dataDir, '--night', NIGHT, '--json']).done;
    expect(replay.code, replay.stderr).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({ topic: `${TOPIC}_replay`, state: 'done', sent: ALERTS });
    const replayed = await readTopic(uwKafka, `${TOPIC}_replay`, ALERTS, { withCandid: true });
    expect(sorted(replayed)).toEqual(sorted(source));
  }, 240_000);

  /** One command line of each client kind, each to fail before it does anything. */
  function everyClient(config: string): [string, string[]][] {
    const pattern = `^${TOPIC}$`;
    return [
      ['produce', ['produce', '--config', config, '--night', '20240302', '--simulate', '1']],
      ['mirror', ['mirror', '--config', config, '--topics', pattern, '--name', 'refused']],
      ['archive run', ['archive', 'run', '--config', config, '--data', join(dir, 'refused-data'), '--topics', pattern, '--no-schedule']],
      ['filter', ['filter', '--config', config, '--filter', 'purity', '--topics', pattern, '--name', 'refused']],
      ['replay', ['replay', '--config', config, '--data', replayData, '--night', '20180819']],
    ];
  }

  it('a wrong password: every client exits non-zero saying SASL authentication failed, for whom, and what to check', async () => {
    const clients = everyClient(wrongPasswordConfig);
    const results = await Promise.all(clients.map(([, args]) => zads(args).done));
    results.forEach((r, i) => {
      const [name] = clients[i]!;
      expect(r.code, `${name}: ${r.stderr}`).not.toBe(0);
      expect(r.stderr, name).toMatch(
        /^zads: (replay \S+ failed: )?SASL authentication failed for user "zads" with mechanism scram-sha-512 at Kafka 127\.0\.0\.1:\d+: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512\. Check sasl\.username, sasl\.password and sasl\.mechanism of this cluster in the config \(clusters\.ipac\.sasl or clusters\.uw\.sasl\), and that the brokers hold SCRAM-SHA-512 credentials for "zads"/m,
      );
      expect(r.stderr, name).not.toMatch(/^\s+at /m); // no stack trace
      expect(r.stderr, name).not.toMatch(/"level":50,[^\n]*"component":"kafka"/); // nor the client's error lines around it
    });
    // Each talks to the cluster it should, with that cluster's settings.
    expect(results[0]!.stderr).toContain(`at Kafka ${ipac.brokers[0]}:`);
    for (const r of results.slice(2)) expect(r.stderr).toContain(`at Kafka ${uw.brokers[0]}:`);
  }, 180_000);

  it('no CA file: every client exits non-zero saying the broker certificate is not trusted and to set tls.caFile', async () => {
    const clients = everyClient(noCaConfig);
    const results = await Promise.all(clients.map(([, args]) => zads(args).done));
    results.forEach((r, i) => {
      const [name] = clients[i]!;
      expect(r.code, `${name}: ${r.stderr}`).not.toBe(0);
      expect(r.stderr, name).toMatch(
        /^zads: (replay \S+ failed: )?TLS: the certificate of Kafka broker 127\.0\.0\.1:\d+ is not trusted \(self-signed certificate in certificate chain\)\. Set tls\.caFile of this cluster in the config \(clusters\.ipac\.tls or clusters\.uw\.tls\) to the PEM file of the certificate authority/m,
      );
      expect(r.stderr, name).not.toMatch(/^\s+at /m);
      expect(r.stderr, name).not.toMatch(/"level":50,[^\n]*"component":"kafka"/);
    });
    expect(results[0]!.stderr).toContain(`Kafka broker ${ipac.brokers[0]} is not trusted`);
    for (const r of results.slice(2)) expect(r.stderr).toContain(`Kafka broker ${uw.brokers[0]} is not trusted`);
  }, 180_000);
});
