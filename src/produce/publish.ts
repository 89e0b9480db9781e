import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { ClusterConfig } from '../config/index.ts';
import { ZadsError, toZadsError } from '../errors.ts';
import { createKafka, ensureTopic, kafkaError } from '../kafka/index.ts';
import type { Producer } from '../kafka/index.ts';
import { LatencyHistogram } from '../latency.ts';
import type { LatencySummary } from '../latency.ts';
import { PublishPacer } from './pacing.ts';
import type { PublishPacing } from './pacing.ts';
import { isSkipped } from './sources.ts';
import type { OutgoingMessage } from './sources.ts';
import { resolvePublishOptions } from './publish-options.ts';
import type { PublishOptions, ResolvedPublishOptions } from './publish-options.ts';

/**
 * A source that computes its messages (a simulation) never waits on I/O, so the loop lets the event
 * loop run at least this often: acknowledgements are taken when they arrive (send latency is not
 * inflated by the next batch's build time) and socket writes keep draining.
 */
const YIELD_EVERY_MS = 2;
/** A paced send flushes the batch it holds when it has to wait at least this long. */
const FLUSH_BEFORE_WAIT_MS = 5;
const MIB = 1024 * 1024;

export interface PublishProgress {
  /** Alerts acknowledged by the brokers. */
  alerts: number;
  bytes: number;
  skipped: number;
  seconds: number;
}

export interface PublishReport extends PublishProgress {
  topic: string;
  /** Partitions of the topic (the existing count if it was there already). */
  partitions: number;
  alertsPerSec: number;
  /** Mebibytes (2^20 bytes) of message values per second, as Kafka's perf tools count MB. */
  mbPerSec: number;
  /** From each batch's send() to its acknowledgement. */
  sendLatencyMs: LatencySummary;
  batches: number;
  /** True when stopped by the signal before the messages ran out. */
  aborted: boolean;
}

function pacingOf(options: ResolvedPublishOptions): PublishPacing {
  if (options.pacing === 'exposures') return { mode: 'exposures', speed: options.speed };
  if (options.rateAlertsPerSec !== undefined) return { mode: 'rate', alertsPerSec: options.rateAlertsPerSec };
  return { mode: 'asap' };
}

/** A Kafka failure as a ZadsError that names the brokers. */
export function kafkaFailure(err: unknown, cluster: ClusterConfig, topic: string): ZadsError {
  if (err instanceof ZadsError) {
    err.context.brokers ??= cluster.brokers.join(',');
    return err;
  }
  if (typeof (err as { code?: unknown })?.code === 'number') {
    const e = kafkaError(err, { cluster, doing: `publish to ${topic}`, topic });
    e.context.brokers ??= cluster.brokers.join(',');
    return e;
  }
  return toZadsError(err, { topic });
}

/**
 * Publishes messages to a topic with an idempotent producer (acks from all in-sync replicas), creating
 * the topic if it is missing. Messages go out in batches, a few unacknowledged at a time while the next
 * is built, so memory stays bounded (`maxBatchesInFlight` + 1 batches) whatever the source's size. Returns the
 * measured rates and send latencies.
 */
export async function publishNight(publishOptions: PublishOptions): Promise<PublishReport> {
  const options = resolvePublishOptions(publishOptions);
  const { cluster, topic, signal, batchMaxBytes, batchMaxMessages, ackTimeoutMs, progressIntervalMs, connectTimeoutMs, maxBatchesInFlight: maxInFlight } = options;
  const pacing = pacingOf(options);
  const logger = options.logger?.child({ component: 'produce', topic });

  const setup = { ...cluster, connectionTimeoutMs: Math.min(cluster.connectionTimeoutMs, connectTimeoutMs), requestTimeoutMs: Math.min(cluster.requestTimeoutMs, connectTimeoutMs) };
  const kafka = createKafka(setup, options.logger, 'produce');
  let partitions: number;
  try {
    partitions = await ensureTopic(kafka, { topic, partitions: options.partitions });
  } catch (err) {
    throw kafkaFailure(err, cluster, topic);
  }
  // The Java client's murmur2 partitioner: a key lands where Java producers (ZTF's own) put it.
  const producer: Producer = kafka.producer({
    idempotent: true,
    rdkafka: { partitioner: 'murmur2_random', 'message.timeout.ms': ackTimeoutMs },
  });
  try {
    await producer.connect();
  } catch (err) {
    throw kafkaFailure(err, cluster, topic);
  }
  logger?.info({ partitions }, 'publishing');

  const latency = new LatencyHistogram();
  const pacer = new PublishPacer(pacing);
  const started = performance.now();
  const progress: PublishProgress = { alerts: 0, bytes: 0, skipped: 0, seconds: 0 };
  let lastProgressMs = 0;
  const report = (force: boolean) => {
    const now = performance.now();
    if (!options.onProgress || (!force && now - lastProgressMs < progressIntervalMs)) return;
    lastProgressMs = now;
    options.onProgress({ ...progress, seconds: (now - started) / 1000 });
  };

  let batch: OutgoingMessage[] = [];
  let batchBytes = 0;
  let batches = 0;
  let failure: unknown;
  // A few batches in flight while the next one is built: librdkafka's idempotent producer keeps their
  // order and retries without duplicates, and more than one in flight keeps its connections busy.
  const inFlight = new Set<Promise<void>>();

  const flush = async () => {
    if (batch.length === 0) return;
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    if (failure !== undefined) return;
    const messages = batch;
    const bytes = batchBytes;
    batch = [];
    batchBytes = 0;
    batches++;
    const sentAt = performance.now();
    const sending = producer
      .send({ topic, messages: messages.map((m) => ({ key: m.key, value: m.value })) })
      .then(() => {
        latency.record(performance.now() - sentAt);
        progress.alerts += messages.length;
        progress.bytes += bytes;
        report(false);
      })
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  };

  let aborted = false;
  let lastYieldMs = performance.now();
  try {
    for await (const item of options.messages) {
      const now = performance.now();
      if (now - lastYieldMs >= YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYieldMs = performance.now();
      }
      if (failure !== undefined) break;
      if (signal?.aborted) {
        aborted = true;
        break;
      }
      if (isSkipped(item)) {
        progress.skipped++;
        logger?.warn({ err: item.skipped, source: item.source }, 'input skipped');
        options.onSkip?.(item.skipped);
        continue;
      }
      if (pacer.startsBurst(item.jd)) await flush();
      const waitMs = pacer.next(item.jd);
      if (waitMs > 0) {
        if (waitMs >= FLUSH_BEFORE_WAIT_MS) await flush();
        try {
          await sleep(waitMs, undefined, { signal });
        } catch {
          aborted = true;
          break;
        }
      }
      batch.push(item);
      batchBytes += item.value.length;
      if (batchBytes >= batchMaxBytes || batch.length >= batchMaxMessages) await flush();
    }
    if (failure === undefined) await flush();
  } finally {
    await Promise.all(inFlight);
    await producer.disconnect().catch(() => undefined);
  }
  if (failure !== undefined) {
    const error = kafkaFailure(failure, cluster, topic);
    error.context.alertsAcknowledged = progress.alerts;
    throw error;
  }
  const seconds = (performance.now() - started) / 1000;
  progress.seconds = seconds;
  report(true);
  return {
    topic,
    partitions,
    ...progress,
    alertsPerSec: seconds > 0 ? progress.alerts / seconds : 0,
    mbPerSec: seconds > 0 ? progress.bytes / MIB / seconds : 0,
    sendLatencyMs: latency.summary(),
    batches,
    aborted,
  };
}
