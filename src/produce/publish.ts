import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { ClusterConfig } from '../config/index.ts';
import { ZadsError, toZadsError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { DEFAULT_NIGHT_PARTITIONS, createKafka, ensureTopic, kafkaError } from '../kafka/index.ts';
import type { Producer } from '../kafka/index.ts';
import { LatencyHistogram } from '../latency.ts';
import type { LatencySummary } from '../latency.ts';
import { PublishPacer } from './pacing.ts';
import type { PublishPacing } from './pacing.ts';
import { isSkipped } from './sources.ts';
import type { OutgoingMessage, SourceItem } from './sources.ts';
import { positiveOption } from '../options.ts';

export const DEFAULT_BATCH_MAX_BYTES = 1024 * 1024;
export const DEFAULT_BATCH_MAX_MESSAGES = 500;
export const DEFAULT_PROGRESS_INTERVAL_MS = 1000;
export const DEFAULT_ACK_TIMEOUT_MS = 30_000;
/** Kafka client retries (connecting, metadata, creating the topic) before giving up. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Batches sent but not yet acknowledged at once; librdkafka's idempotent producer keeps their order. */
export const DEFAULT_MAX_BATCHES_IN_FLIGHT = 4;
/**
 * A source that computes its messages (a simulation) never waits on I/O, so the loop lets the event
 * loop run at least this often: acknowledgements are taken when they arrive (send latency is not
 * inflated by the next batch's build time) and socket writes keep draining.
 */
const YIELD_EVERY_MS = 2;
/** A paced send flushes the batch it holds when it has to wait at least this long. */
const FLUSH_BEFORE_WAIT_MS = 5;
const MIB = 1024 * 1024;

export interface PublishOptions {
  /** The cluster to publish to. */
  cluster: ClusterConfig;
  topic: string;
  /** The messages, in the order to send them. */
  messages: AsyncIterable<SourceItem> | Iterable<SourceItem>;
  /** Partitions of the topic if it is created here (an existing topic keeps its own). Default 16. */
  partitions?: number;
  /** Smooth rate limit, in alerts per second. Default: as fast as possible. */
  rateAlertsPerSec?: number;
  /** `exposures`: send each exposure's burst together, the bursts spaced as their jd says. Default `asap`. */
  pacing?: 'asap' | 'exposures';
  /** Time compression of exposure pacing: 1 is real time, 60 a minute of sky per second. Default 1. */
  speed?: number;
  /** A batch is sent once it holds this many bytes. Default 1 MiB. */
  batchMaxBytes?: number;
  /** …or this many messages. Default 500. */
  batchMaxMessages?: number;
  /** How long a broker may take to acknowledge a batch, in ms. Default 30000. */
  ackTimeoutMs?: number;
  /** Longest wait for the cluster when connecting and creating the topic, in ms; a dead broker fails after it. Default 10,000. */
  connectTimeoutMs?: number;
  /** Batches sent and not yet acknowledged at one time. Default 4. */
  maxBatchesInFlight?: number;
  /** Called with the counts so far at most every `progressIntervalMs`, and once at the end. */
  onProgress?: (progress: PublishProgress) => void;
  /** Default 1000 ms. */
  progressIntervalMs?: number;
  /** Called for each input that was skipped (it does not decode, cannot be read). */
  onSkip?: (error: ZadsError) => void;
  /** Stops reading new messages; what was sent is still awaited and reported. */
  signal?: AbortSignal;
  logger?: Logger;
}

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

const positive = (key: string, value: number | undefined, fallback: number, integer = true) => (value === undefined ? fallback : positiveOption('publish', key, value, { integer }));

function pacingOf(options: PublishOptions): PublishPacing {
  if (options.pacing === 'exposures') {
    if (options.rateAlertsPerSec !== undefined) {
      throw new ZadsError('CONFIG_INVALID', 'rateAlertsPerSec and exposure pacing exclude each other', { context: { key: 'rateAlertsPerSec' } });
    }
    return { mode: 'exposures', speed: positive('speed', options.speed, 1, false) };
  }
  if (options.rateAlertsPerSec !== undefined) return { mode: 'rate', alertsPerSec: positive('rateAlertsPerSec', options.rateAlertsPerSec, 1, false) };
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
export async function publishNight(options: PublishOptions): Promise<PublishReport> {
  const { cluster, topic, signal } = options;
  const pacing = pacingOf(options);
  const batchMaxBytes = positive('batchMaxBytes', options.batchMaxBytes, DEFAULT_BATCH_MAX_BYTES);
  const batchMaxMessages = positive('batchMaxMessages', options.batchMaxMessages, DEFAULT_BATCH_MAX_MESSAGES);
  const ackTimeoutMs = positive('ackTimeoutMs', options.ackTimeoutMs, DEFAULT_ACK_TIMEOUT_MS);
  const progressIntervalMs = positive('progressIntervalMs', options.progressIntervalMs, DEFAULT_PROGRESS_INTERVAL_MS);
  const connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS);
  const maxInFlight = positive('maxBatchesInFlight', options.maxBatchesInFlight, DEFAULT_MAX_BATCHES_IN_FLIGHT);
  const logger = options.logger?.child({ component: 'produce', topic });

  const setup = { ...cluster, connectionTimeoutMs: Math.min(cluster.connectionTimeoutMs, connectTimeoutMs), requestTimeoutMs: Math.min(cluster.requestTimeoutMs, connectTimeoutMs) };
  const kafka = createKafka(setup, options.logger, 'produce');
  let partitions: number;
  try {
    partitions = await ensureTopic(kafka, { topic, partitions: positive('partitions', options.partitions, DEFAULT_NIGHT_PARTITIONS) });
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
