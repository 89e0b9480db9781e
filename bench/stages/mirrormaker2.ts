/**
 * Kafka MirrorMaker 2 as the mirror's baseline: the same night (16 partitions, N copies of the 3.3 sample)
 * copied ipac → uw by MM2 in dedicated mode with exactly-once source support (KIP-618, KIP-710), timed
 * from starting its JVM until the last record is committed on the target.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createKafka, deleteTopics, topicEndOffsets } from '../../src/kafka/index.ts';
import type { Admin, KafkaClient } from '../../src/kafka/index.ts';
import type { BenchContext, Stage } from '../harness.ts';
import { freePort } from '../../test/helpers/java.ts';
import { findMirrorMaker, startJava } from '../java.ts';
import type { JavaProcess } from '../java.ts';
import { scratchGroup } from '../kafka-admin.ts';
import { UW_BOOTSTRAP, clusterOf, mirrorInputCount, produceSampleNight, scratchProgramId } from './mirror-input.ts';

const MB = 2 ** 20;
/** How often the target's committed end offsets are read while MM2 runs. */
const POLL_MS = 100;
/** The committed end offsets must stand still this long (with ≥ N offsets) before the records are counted. */
const QUIET_MS = 2000;
/** As bin/connect-mirror-maker.sh (KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS). */
const JVM = [
  '-Xms256m', '-Xmx2g', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent', '-Djava.awt.headless=true',
];

export interface Mm2Config {
  sourceBootstrap: string;
  targetBootstrap: string;
  topic: string;
  /** Connect worker group on the target, and the prefix of its three internal topics there. */
  workerGroup: string;
  internalTopics: { offsets: string; configs: string; status: string };
  /** Port of the internal REST server (KIP-710) on 127.0.0.1. */
  restPort: number;
}

/** mm2.properties for one flow ipac → uw of one topic, with exactly-once source support on uw. */
export function mm2Properties(c: Mm2Config): string {
  const extra = (process.env.ZADS_BENCH_MM2_PROPS ?? '').split(';').map((l) => l.trim()).filter(Boolean);
  return [
    '# MirrorMaker 2, dedicated mode; written by bench/stages/mirrormaker2.ts',
    'clusters = ipac, uw',
    `ipac.bootstrap.servers = ${c.sourceBootstrap}`,
    `uw.bootstrap.servers = ${c.targetBootstrap}`,
    'ipac->uw.enabled = true',
    `ipac->uw.topics = ${c.topic}`,
    'uw->ipac.enabled = false',
    '# the target topic keeps its name (no "ipac." prefix)',
    'replication.policy.class = org.apache.kafka.connect.mirror.IdentityReplicationPolicy',
    'tasks.max = 2',
    '# exactly-once source support (KIP-618) on the worker that writes to uw; dedicated mode needs the',
    '# internal REST server for it (KIP-710, "Exactly once" in the georeplication docs)',
    'uw.exactly.once.source.support = enabled',
    'dedicated.mode.enable.internal.rest = true',
    `listeners = http://127.0.0.1:${c.restPort}`,
    '# MirrorSourceConnector declares exactly-once support only when its source consumer reads committed records',
    'ipac.consumer.isolation.level = read_committed',
    '# a scratch worker group and internal topics on uw; replication factor 1 on single-node clusters',
    `uw.group.id = ${c.workerGroup}`,
    `offset.storage.topic = ${c.internalTopics.offsets}`,
    `config.storage.topic = ${c.internalTopics.configs}`,
    `status.storage.topic = ${c.internalTopics.status}`,
    'offset.storage.replication.factor = 1',
    'config.storage.replication.factor = 1',
    'status.storage.replication.factor = 1',
    'replication.factor = 1',
    '# the records only: no heartbeats, checkpoints, offset syncs, group offset or topic config/ACL sync',
    '# (the checkpoint connector then refuses its config and the heartbeat connector fails to create its',
    '# topic with the default replication factor: both logged once as ERROR, harmless)',
    'emit.heartbeats.enabled = false',
    'emit.checkpoints.enabled = false',
    'emit.offset-syncs.enabled = false',
    'sync.group.offsets.enabled = false',
    'refresh.groups.enabled = false',
    'sync.topic.configs.enabled = false',
    'sync.topic.acls.enabled = false',
    ...(extra.length ? ['# ZADS_BENCH_MM2_PROPS', ...extra] : []),
    '',
  ].join('\n');
}

function log4jProperties(logFile: string): string {
  return [
    'log4j.rootLogger=INFO, file',
    'log4j.appender.file=org.apache.log4j.FileAppender',
    `log4j.appender.file.File=${logFile}`,
    'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
    'log4j.logger.org.reflections=ERROR',
    '',
  ].join('\n');
}

/** Per partition end offsets: read_committed (the last stable offset) or read_uncommitted (the high watermark). */
async function endOffsets(admin: Admin, topic: string, committed: boolean): Promise<Map<number, bigint>> {
  if (committed) return topicEndOffsets(admin, topic);
  const out = new Map<number, bigint>();
  for (const p of await admin.fetchTopicOffsets(topic, { isolationLevel: 0 as never })) out.set(p.partition, BigInt(p.high));
  return out;
}

const sum = (m: Map<number, bigint>): number => Number([...m.values()].reduce((a, b) => a + b, 0n));

/**
 * Reads the topic from the start with a read_committed consumer until every partition holds `expected`
 * records, then 500 ms more (a duplicate would show); returns the records per partition.
 */
async function countCommitted(
  ctx: BenchContext,
  kafka: KafkaClient,
  topic: string,
  expected: Map<number, bigint>,
  timeoutMs: number,
): Promise<Map<number, number>> {
  const counts = new Map<number, number>([...expected.keys()].map((p) => [p, 0]));
  const consumer = kafka.consumer({ groupId: scratchGroup(ctx, 'zads-bench-mm2-count', UW_BOOTSTRAP), maxBytesPerPartition: 8 * MB });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic] });
    let total = 0;
    const want = Number([...expected.values()].reduce((a, b) => a + b, 0n));
    await consumer.run({
      eachMessage: async ({ partition }) => {
        counts.set(partition, (counts.get(partition) ?? 0) + 1);
        total += 1;
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (total < want && Date.now() < deadline && !ctx.signal.aborted) {
      ctx.progress(`counting the target's committed records: ${total} of ${want}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  } finally {
    await consumer.disconnect();
  }
  return counts;
}

interface Sample {
  /** ms since MM2's JVM was started. */
  at: number;
  /** Sum of the target's read_committed end offsets (records + transaction markers). */
  committedEnd: number;
}

/**
 * Reads the target topic's committed end offsets every POLL_MS and keeps each change with its time. A read
 * that fails (the topic does not exist yet, a partition without a leader) is skipped.
 */
function pollCommittedEnds(admin: Admin, topic: string, t0: number): { samples: Sample[]; last(): Sample; stop(): Promise<void> } {
  const samples: Sample[] = [{ at: 0, committedEnd: 0 }];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const tick = performance.now();
      try {
        const end = sum(await endOffsets(admin, topic, true));
        if (end !== samples.at(-1)!.committedEnd) samples.push({ at: performance.now() - t0, committedEnd: end });
      } catch {
        // not there yet
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, POLL_MS - (performance.now() - tick))));
    }
  })();
  return {
    samples,
    last: () => samples.at(-1)!,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

async function logTail(logFile: string, lines: number): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => /\b(ERROR|WARN)\b/.test(l))
    .slice(-lines)
    .map((l) => l.slice(0, 300))
    .join(' | ');
}

export const mirrorMaker2: Stage = {
  name: 'mirrormaker2',
  group: 'baseline',
  description:
    "Kafka MirrorMaker 2 (dedicated mode, exactly-once source support, 2 tasks) ipac → uw on the mirror stage's input: alerts/s, MB/s, transaction markers",
  async run(ctx) {
    const jars = await findMirrorMaker(ctx);
    const source = createKafka(clusterOf(ctx.kafkaBootstrap));
    const target = createKafka(clusterOf(UW_BOOTSTRAP));
    const id = scratchProgramId();
    const night = `ztf_20240101_programid${id}`;
    const workerGroup = scratchGroup(ctx, 'zads-bench-mm2', UW_BOOTSTRAP);
    const internalTopics = { offsets: `${workerGroup}-offsets`, configs: `${workerGroup}-configs`, status: `${workerGroup}-status` };
    ctx.defer('delete mirrormaker2 bench topics', async () => {
      await deleteTopics(source, [night]);
      await deleteTopics(target, [night, ...Object.values(internalTopics)]);
    });
    await mkdir(ctx.dataDir, { recursive: true });
    const dir = await mkdtemp(join(ctx.dataDir, 'mm2-'));
    ctx.defer(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));

    const count = mirrorInputCount(ctx);
    const payload = await produceSampleNight(ctx, source, night, count);
    const sourceAdmin = source.admin();
    await sourceAdmin.connect();
    // The source's producer is idempotent, not transactional: its end offsets are its record counts.
    const perPartition = await topicEndOffsets(sourceAdmin, night).finally(() => sourceAdmin.disconnect());
    if (sum(perPartition) !== count) throw new Error(`${night} holds ${sum(perPartition)} records, not ${count}`);

    const propsFile = join(dir, 'mm2.properties');
    const logFile = join(dir, 'mm2.log');
    await writeFile(
      propsFile,
      mm2Properties({ sourceBootstrap: ctx.kafkaBootstrap, targetBootstrap: UW_BOOTSTRAP, topic: night, workerGroup, internalTopics, restPort: await freePort() }),
    );
    await writeFile(join(dir, 'log4j.properties'), log4jProperties(logFile));

    const admin = target.admin();
    await admin.connect();
    let mm2: JavaProcess | undefined;
    try {
      ctx.progress(`starting MirrorMaker 2 (Kafka ${jars.version}) on ${count} alerts of ${night}`, true);
      const t0 = performance.now();
      mm2 = startJava(ctx, jars.java, [...JVM, `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`], `${jars.libsDir}/*`,
        'org.apache.kafka.connect.mirror.MirrorMaker', [propsFile]);
      const running = mm2;
      ctx.defer('stop mirrormaker 2', () => running.stop());
      const poll = pollCommittedEnds(admin, night, t0);
      let counts: Map<number, number> | undefined;
      try {
        const deadline = Date.now() + 15 * 60_000;
        for (;;) {
          if (ctx.signal.aborted) throw new Error('interrupted');
          if (!mm2.running()) {
            throw new Error(`MirrorMaker 2 ended (${await mm2.exited}): ${mm2.outputTail().slice(-3).join(' | ')} ${await logTail(logFile, 3)}`);
          }
          if (Date.now() > deadline) throw new Error(`MirrorMaker 2 did not copy ${count} records within 15 min: ${await logTail(logFile, 3)}`);
          const last = poll.last();
          ctx.progress(`target committed end offsets: ${last.committedEnd} (${count} records + transaction markers expected)`);
          if (last.committedEnd >= count && performance.now() - t0 - last.at >= QUIET_MS) {
            counts = await countCommitted(ctx, target, night, perPartition, 120_000);
            const total = [...counts.values()].reduce((a, b) => a + b, 0);
            if (total >= count) break;
            ctx.progress(`only ${total} of ${count} records committed yet: waiting`, true);
          }
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        }
      } finally {
        await poll.stop();
      }
      // Done at the first read of the final committed end offsets: the last transaction's commit.
      const final = poll.last().committedEnd;
      const done = poll.samples.find((s) => s.committedEnd === final)!;
      const firstRecord = poll.samples[1]?.at ?? done.at;
      const seconds = done.at / 1000;

      if (!counts) throw new Error('no count of the target records');
      for (const [p, n] of perPartition) {
        if (counts.get(p) !== Number(n)) {
          throw new Error(`partition ${p} of the target holds ${counts.get(p)} committed records, the source ${n}`);
        }
      }
      // Control records (commit/abort markers) take offsets only a transactional producer writes: with
      // exactly-once support off, the high watermarks would add up to the record count exactly.
      const hwm = sum(await endOffsets(admin, night, false));
      const markers = hwm - count;
      await mm2.stop();
      const log = await readFile(logFile, 'utf8').catch(() => '');
      const eosTasks = new Set(log.match(/ExactlyOnceWorkerSourceTask\{id=MirrorSourceConnector-\d+\}/g) ?? []).size;
      const transactionalIds = new Set(log.match(/transactionalId=[^,\]]*MirrorSourceConnector-\d+/g) ?? []).size;

      const perSec = count / seconds;
      return [
        {
          metric: 'throughput',
          value: perSec,
          unit: 'alerts/s',
          notes:
            `${count} alerts of ${payload.length} bytes in ${seconds.toFixed(1)} s from starting MM2's JVM to the last commit on the target ` +
            `(first record committed after ${(firstRecord / 1000).toFixed(1)} s); read_committed end offsets every ${POLL_MS} ms`,
        },
        { metric: 'throughput MB/s', value: (perSec * payload.length) / MB, unit: 'MB/s' },
        {
          metric: 'throughput after start-up',
          value: (count / (done.at - firstRecord)) * 1000,
          unit: 'alerts/s',
          notes: 'from the first record committed on the target to the last',
        },
        { metric: 'start-up', value: firstRecord, unit: 'ms', notes: 'JVM start, herder group joins, connector and task start, until the first record is committed on the target' },
        {
          metric: 'eos active',
          value: markers > 0 ? 1 : 0,
          unit: markers > 0 ? 'yes' : 'no',
          notes:
            `target: ${count} committed records, exactly the source's per partition, at ${hwm} offsets (high watermarks = read_committed end offsets ${final}): ` +
            `${markers} control records (transaction markers), which only a transactional producer writes; ` +
            `MM2's log: ${eosTasks} ExactlyOnceWorkerSourceTask task(s), ${transactionalIds} transactional producer(s)`,
        },
      ];
    } finally {
      await mm2?.stop();
      await admin.disconnect();
    }
  },
};
