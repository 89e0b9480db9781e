import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Consumer } from '../../src/kafka/index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archivedCount } from '../helpers/archive.ts';
import { iterateTarball, readContainer } from '../../src/alert/index.ts';
import { Catalogue, CATALOGUE_FILE, tarballKey } from '../../src/archive/index.ts';
import { deleteTopics } from '../../src/kafka/index.ts';
import { fromSimulation, publishNight } from '../../src/produce/index.ts';
import { REPO_ROOT, exited } from '../helpers/cli.ts';
import { cluster3Up, coordinatorOf, killNode, leadership, startCluster3, stopCluster3, waitInSync } from '../helpers/cluster3.ts';
import { byPartition, cluster, kafkaFor, readTopic, uniqueNightTopic } from '../helpers/kafka.ts';
import { CLUSTER3_BROKERS, IPAC_BROKERS } from '../helpers/services.ts';

/*
 * produce → "ipac" → mirror → cluster3 (3 brokers, RF 3, min ISR 2) → archive run → catalogue + segments.
 * While alerts flow, the broker coordinating the mirror's transactions (and leading a share of the night's
 * partitions) is crashed with SIGKILL and started again a few seconds later; then the same is done to the
 * broker coordinating the filter runner's transactions (or another, when it is the same). A filter runner
 * (passing every alert) reads cluster3 throughout. Nothing may be lost, archived or filtered twice.
 */

const NIGHT = '20240108';
const ALERTS = 5000;
/** Spreads production over about two minutes, so that both crashes happen while alerts are being produced. */
const RATE_ALERTS_PER_SEC = 40;
const KILLS = 2;
const DOWN_MS = 5000;
const ipac = kafkaFor(IPAC_BROKERS);
const cluster3 = kafkaFor(CLUSTER3_BROKERS);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


interface Watched {
  name: string;
  child: ChildProcess;
  exit: ReturnType<typeof exited>;
  done?: Awaited<ReturnType<typeof exited>>;
}

function watch(name: string, child: ChildProcess): Watched {
  const w: Watched = { name, child, exit: exited(child) };
  void w.exit.then((r) => (w.done = r));
  return w;
}

/** Starts `zads` with its info lines (progress reports, fail-over warnings) kept for the failure report. */
function zads(args: readonly string[]): ChildProcess {
  return spawn(process.execPath, [`${REPO_ROOT}bin/zads.js`, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ZADS_LOG_LEVEL: 'info' },
  });
}

/**
 * Polls until `ready()`; fails at once if one of the long-running processes has ended, and when `progress()`
 * (what the pipeline has done so far) stays the same for `stallMs` — a hang, not a slow machine.
 */
async function waitUntil(
  what: string,
  ready: () => boolean | Promise<boolean>,
  o: { running: Watched[]; progress: () => Promise<string>; stallMs?: number },
): Promise<void> {
  const stallMs = o.stallMs ?? 240_000;
  let last = await o.progress();
  let changedAt = Date.now();
  for (;;) {
    if (await ready()) return;
    const dead = o.running.find((w) => w.done);
    if (dead) throw new Error(`${dead.name} ended (code ${dead.done!.code}, signal ${dead.done!.signal}) while waiting for ${what}:\n${dead.done!.output.slice(-4000)}`);
    const now = await o.progress();
    if (now !== last) [last, changedAt] = [now, Date.now()];
    else if (Date.now() - changedAt > stallMs) throw new Error(`no progress for ${stallMs} ms while waiting for ${what}: ${now}`);
    await sleep(500);
  }
}

interface Kill {
  node: number;
  roles: string;
  atArchived: number;
  whileProducing: boolean;
  /** ms from the SIGKILL to the first mirror transaction committed after it. */
  mirrorResumedMs?: number;
  /** ms from the SIGKILL to the first alert archived after the ones already fetched before it. */
  archiveResumedMs?: number;
  /** ms from the SIGKILL until the restarted node was back in every ISR. */
  wholeAgainMs?: number;
}

describe('three-broker fail-over', () => {
  const night = uniqueNightTopic(NIGHT);
  const name = `failover-${night.programid}`;
  /** The mirror's group (its positions on cluster3) and its transactional id (instance "f"). */
  const mirrorGroup = `zads-mirror-${name}`;
  const mirrorTxnId = `${mirrorGroup}-f`;
  const filterTxnId = `zads-filter-${name}-f`;
  const filterOutput = `${night.topic}_all`;
  const archiveGroup = `failover-${night.programid}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'zads-failover-'));
  const down = new Set<number>();
  const children: Watched[] = [];
  let startedCluster = false;
  let admin: Admin | undefined;
  let positionsReader: Consumer | undefined;
  let passed = false;
  /** Stops the in-process publisher if the test ends before the night is sent. */
  const stopFeeding = new AbortController();

  beforeAll(async () => {
    if (!(await cluster3Up())) {
      startedCluster = true;
      await startCluster3();
    }
    admin = cluster3.admin();
    await admin.connect();
    // The mirror's positions on cluster3, read as a consumer of its group reads them (never subscribed): the
    // admin client's fetchOffsets crashes librdkafka when a broker crash moves the group's coordinator.
    positionsReader = cluster3.consumer({ groupId: mirrorGroup });
    await positionsReader.connect();
  }, 300_000);

  afterAll(async () => {
    stopFeeding.abort();
    for (const w of children) if (!w.done) w.child.kill('SIGKILL');
    if (!passed && children.length > 0) {
      // What the processes said is the first thing to read when this test fails.
      const logs = mkdtempSync(join(tmpdir(), 'zads-failover-logs-'));
      for (const w of children) writeFileSync(join(logs, `${w.name.replaceAll(' ', '-')}.log`), (await w.exit).output);
      console.error(`[failover] output of the zads processes kept in ${logs}`);
    }
    await positionsReader?.disconnect();
    await admin?.disconnect();
    // A node this test crashed is started again, so the cluster is left as it was found.
    if (down.size > 0 && !startedCluster) await startCluster3([...down]).catch((err: unknown) => console.error(err));
    await deleteTopics(ipac, [night.topic]).catch((err: unknown) => console.error(err));
    await deleteTopics(cluster3, [night.topic, filterOutput]).catch((err: unknown) => console.error(err));
    if (startedCluster) await stopCluster3();
    rmSync(dataDir, { recursive: true, force: true });
  }, 300_000);

  it(`archives a ${ALERTS}-alert night mirrored into a 3-broker cluster exactly once while ${KILLS} brokers crash in turn`, async () => {
    const a = admin!;
    const t0 = Date.now();
    const mirror = watch('zads mirror', zads(['mirror', '--from', IPAC_BROKERS.join(','), '--to', CLUSTER3_BROKERS.join(','), '--topics', night.pattern.source, '--name', name, '--instance', 'f']));
    // A filter runner on cluster3 too (a filter passing every alert, so its output must equal its input).
    const filter = watch('zads filter', zads(['filter', '--filter', join(REPO_ROOT, 'test/filter/fixtures/passes-all.ts'), '--brokers', CLUSTER3_BROKERS.join(','), '--topics', night.pattern.source, '--name', name, '--instance', 'f']));
    const archive = watch('zads archive run', zads(['archive', 'run', '--brokers', CLUSTER3_BROKERS.join(','), '--data', dataDir, '--topics', night.pattern.source, '--group', archiveGroup, '--no-schedule']));
    // Alerts must still be arriving after each crash, or the mirror has nothing left to commit and its fail-over
    // shows nothing (CI once ran the producer dry before the second crash, the first recovery being slow). Our
    // publisher (what `zads produce` runs) sends the simulated night to IPAC at 40 alerts/s from this process and
    // waits, between two alerts, while it has sent `feed.allowance` of them — a little past the next crash's
    // mark; each crash raises the allowance. (A `zads produce` process held with SIGSTOP instead failed in CI:
    // held longer than its 30 s acknowledgement timeout, its queued messages expired.)
    const threshold = (k: number) => Math.round((ALERTS * (k + 1)) / (KILLS + 3));
    const feed = { allowance: threshold(0) + 200, sent: 0, done: false };
    async function* gatedNight() {
      for (const item of fromSimulation({ night: NIGHT, programid: night.programid, count: ALERTS, seed: 13 })) {
        while (feed.sent >= feed.allowance && !stopFeeding.signal.aborted) await sleep(100);
        if (stopFeeding.signal.aborted) return;
        feed.sent++;
        yield item;
      }
    }
    const producing = publishNight({ cluster: cluster(IPAC_BROKERS), topic: night.topic, messages: gatedNight(), rateAlertsPerSec: RATE_ALERTS_PER_SEC, signal: stopFeeding.signal }).finally(() => (feed.done = true));
    producing.catch(() => undefined);
    children.push(mirror, archive, filter);
    const running = [mirror, archive, filter];
    const archived = () => archivedCount(dataDir, NIGHT, night.programid);
    // Mirror progress as the cluster records it: the positions committed inside the mirror's transactions.
    const mirrored = async (): Promise<bigint | undefined> => {
      const got = await Promise.race([
        positionsReader!.committed(Array.from({ length: 16 }, (_, partition) => ({ topic: night.topic, partition })), 5000).catch(() => undefined),
        sleep(2000).then(() => undefined),
      ]);
      if (!got) return undefined;
      return got.reduce((n, p) => n + (p.offset !== null && BigInt(p.offset) > 0n ? BigInt(p.offset) : 0n), 0n);
    };
    const progress = async () => `mirror positions ${(await mirrored()) ?? '?'}, archived ${archived()}`;
    const wait = { running, progress };


    // The mirror creates the night's topic on cluster3 with the cluster's replication: 3 copies, 2 in sync.
    await waitUntil('the mirrored topic on cluster3', async () => (await a.listTopics()).includes(night.topic), wait);
    // On a fresh cluster __transaction_state is made by the mirror's first transaction (regression: CI's
    // first run asked for its metadata before it existed).
    await waitUntil('the mirror\'s first committed transaction', async () => ((await mirrored()) ?? 0n) > 0n, wait);
    await waitInSync(a, [night.topic, '__transaction_state']);
    const meta = await a.fetchTopicMetadata({ topics: [night.topic, '__transaction_state'] });
    for (const t of meta) for (const p of t.partitions) expect(p.replicas, `${t.name}/${p.partitionId} replicas`).toHaveLength(3);
    // The effective min.insync.replicas of both topics, as Kafka's own kafka-configs tool describes it.
    for (const topic of [night.topic, '__transaction_state']) {
      const described = spawnSync('bash', ['ops/kafka-class.sh', 'kafka.admin.ConfigCommand', '--bootstrap-server', CLUSTER3_BROKERS[0]!, '--entity-type', 'topics', '--entity-name', topic, '--describe', '--all'], { cwd: REPO_ROOT, encoding: 'utf8' });
      expect(described.stdout, topic).toMatch(/\bmin\.insync\.replicas=2\b/);
    }

    const kills: Kill[] = [];
    let previous = -1;
    for (let k = 0; k < KILLS; k++) {
      await waitUntil(`${threshold(k)} alerts archived`, () => archived() >= threshold(k), wait);
      // First the mirror's transaction coordinator, then the filter runner's (the other broker when they share one).
      const coordinator = await coordinatorOf(a, 'transaction', k === 0 ? mirrorTxnId : filterTxnId);
      const leads = await leadership(a, night.topic);
      const victim = coordinator !== previous && coordinator > 0 ? coordinator : [...leads.entries()].filter(([n]) => n !== previous).sort((x, y) => y[1] - x[1])[0]![0];
      const roles = [
        `leads ${leads.get(victim) ?? 0}/${[...leads.values()].reduce((x, y) => x + y, 0)} partitions`,
        victim === coordinator ? 'mirror transaction coordinator' : '',
        victim === (await coordinatorOf(a, 'group', mirrorGroup)) ? 'mirror position group coordinator' : '',
        victim === (await coordinatorOf(a, 'transaction', filterTxnId)) ? 'filter transaction coordinator' : '',
        victim === (await coordinatorOf(a, 'group', archiveGroup)) ? 'archive group coordinator' : '',
      ].filter(Boolean).join(', ');
      const kill: Kill = { node: victim, roles, atArchived: archived(), whileProducing: !feed.done };
      let mirroredBefore: bigint | undefined;
      while ((mirroredBefore = await mirrored()) === undefined) await sleep(200);
      const killedAt = Date.now();
      await killNode(victim);
      down.add(victim);
      previous = victim;
      // Production goes on through the outage, up to a little past the next crash's mark.
      feed.allowance = k + 1 < KILLS ? threshold(k + 1) + 200 : ALERTS;

      // Watch the mirror's committed positions and the catalogue while the node is down and coming back.
      const stopWatch = { stop: false };
      const watching = (async () => {
        let archivedAtKill = -1;
        while (!stopWatch.stop && (kill.mirrorResumedMs === undefined || kill.archiveResumedMs === undefined)) {
          const m = await mirrored();
          if (kill.mirrorResumedMs === undefined && m !== undefined && m > mirroredBefore) kill.mirrorResumedMs = Date.now() - killedAt;
          // What the archive had fetched before the crash it may still record; count its progress once the
          // mirror has committed again (those alerts can only have come through the fail-over).
          if (kill.mirrorResumedMs !== undefined && archivedAtKill < 0) archivedAtKill = archived();
          else if (archivedAtKill >= 0 && kill.archiveResumedMs === undefined && archived() > archivedAtKill) kill.archiveResumedMs = Date.now() - killedAt;
          await sleep(200);
        }
      })();
      await sleep(DOWN_MS);
      await startCluster3([victim]);
      down.delete(victim);
      await waitInSync(a, [night.topic, '__transaction_state', '__consumer_offsets']);
      kill.wholeAgainMs = Date.now() - killedAt;
      await waitUntil(`the mirror and the archive to make progress after crashing cluster3-${victim}`, () => kill.mirrorResumedMs !== undefined && kill.archiveResumedMs !== undefined, wait).finally(
        () => (stopWatch.stop = true),
      );
      await watching;
      kills.push(kill);
      console.log(`[failover] crash ${k + 1}: cluster3-${victim} (${roles}) at ${kill.atArchived} archived, ${Math.round((killedAt - t0) / 1000)} s in${kill.whileProducing ? ' (still producing)' : ''}; mirror committed again after ${kill.mirrorResumedMs} ms, archive after ${kill.archiveResumedMs} ms, node back in sync after ${kill.wholeAgainMs} ms`);
    }

    const produced = await producing;
    expect(produced.alerts).toBe(ALERTS);
    // Both crashes happened before the night was archived whole.
    expect(kills.map((k) => k.atArchived).every((n) => n < ALERTS)).toBe(true);

    await waitUntil(`all ${ALERTS} alerts archived`, () => archived() >= ALERTS, wait);
    const tDone = Date.now();

    // The mirror's copy on cluster3: every source record once, per partition, in order, byte for byte.
    const source = await readTopic(ipac, night.topic, ALERTS, { digestOnly: true, withCandid: true, settleMs: 0, timeoutMs: 300_000 });
    expect(source).toHaveLength(ALERTS);
    const target = await readTopic(cluster3, night.topic, ALERTS, { digestOnly: true, settleMs: 5000, timeoutMs: 300_000 });
    expect(target).toHaveLength(ALERTS);
    const s = byPartition(source);
    const t = byPartition(target);
    for (const [partition, records] of s) {
      expect(t.get(partition)?.map((r) => `${r.message.key}|${r.valueSha256}`), `partition ${partition}: keys and bytes, in order`).toEqual(
        records.map((r) => `${r.message.key}|${r.valueSha256}`),
      );
    }

    // The filter's output on cluster3: every mirrored record once, per partition, in order, byte for byte.
    const filtered = await readTopic(cluster3, filterOutput, ALERTS, { digestOnly: true, settleMs: 5000, timeoutMs: 300_000 });
    expect(filtered).toHaveLength(ALERTS);
    const f = byPartition(filtered);
    for (const [partition, records] of t) {
      expect(f.get(partition)?.map((r) => r.valueSha256), `filter output partition ${partition}`).toEqual(records.map((r) => r.valueSha256));
    }

    mirror.child.kill('SIGTERM');
    archive.child.kill('SIGTERM');
    filter.child.kill('SIGTERM');
    const [m, r, fl] = await Promise.all([mirror.exit, archive.exit, filter.exit]);
    // Each stops cleanly on SIGTERM: exit 0 — or, when a librdkafka call given up on during a crash still hangs
    // (send_offsets_to_transaction past its timeout, confluentinc/librdkafka#5456), SIGKILL by its own hand
    // after its clean stop, saying so, since exit would wait for that call for ever.
    const stoppedCleanly = (e: typeof m) => (e.code === 0 || (e.signal === 'SIGKILL' && /still hang in librdkafka past their timeout/.test(e.output)) ? 'stopped cleanly' : `code ${e.code}, signal ${e.signal}`);
    expect(stoppedCleanly(fl), fl.output).toBe('stopped cleanly');
    expect(stoppedCleanly(m), m.output).toBe('stopped cleanly');
    expect(r.code, r.output).toBe(0);
    expect(fl.output).toMatch(new RegExp(`${ALERTS} record\\(s\\) written`));
    // The archive never saw an alert twice (the catalogue would have absorbed it silently) nor a bad one.
    expect(r.output).toMatch(new RegExp(`stopped; ${ALERTS} alerts archived, 0 duplicates, 0 quarantined`));

    const catalogue = new Catalogue(join(dataDir, CATALOGUE_FILE), { readonly: true });
    const rows = [...catalogue.alertsOfNight(NIGHT, night.programid)];
    catalogue.close();
    expect(rows).toHaveLength(ALERTS);
    const expected = new Map(source.map((x) => [x.candid!, x.valueSha256]));
    expect(expected.size).toBe(ALERTS);
    expect(new Set(rows.map((x) => x.candid.toString()))).toEqual(new Set(expected.keys()));

    // The night's UW tarball: every candid once, each member the exact bytes that were produced.
    const close = await exited(zads(['archive', 'close', '--data', dataDir, '--night', NIGHT, '--program', String(night.programid), '--json']));
    expect(close.code, close.output).toBe(0);
    const seen = new Map<string, string>();
    for await (const member of iterateTarball(join(dataDir, tarballKey(NIGHT, night.programid)))) {
      const candid = readContainer(member.bytes)[0]!.alert.candid.toString();
      expect(member.name).toBe(`${candid}.avro`);
      expect(seen.has(candid), `candid ${candid} twice in the tarball`).toBe(false);
      seen.set(candid, createHash('sha256').update(member.bytes).digest('hex'));
    }
    expect(seen).toEqual(expected);
    passed = true;
    console.log(`[failover] ${ALERTS} alerts produced at ${RATE_ALERTS_PER_SEC}/s, all archived ${Math.round((tDone - t0) / 1000)} s after the start, checked after ${Math.round((Date.now() - t0) / 1000)} s`);
  }, 1_200_000);
});
