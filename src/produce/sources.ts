import { frameConfluent, readContainer, readInputs, writeContainer } from '../alert/index.ts';
import type { AlertSource, ZtfAlert } from '../alert/index.ts';
import { ZadsError, toZadsError } from '../errors.ts';
import { STREAM, hashInts } from './rng.ts';
import { resolveSimulation, simulateNight } from './simulate.ts';
import type { ResolvedSimulation, SimulateOptions } from './simulate.ts';

/**
 * What the publisher sends: Kafka messages keyed by objectId, from a simulation or from alert files.
 * An input that cannot be sent is passed along as a skipped item, so the publisher counts and reports
 * it and goes on.
 */

/** `container`: one Avro container file per message (what ZTF sends); `confluent`: Confluent wire format. */
export type MessageFormat = 'container' | 'confluent';

export interface OutgoingMessage {
  /** The alert's objectId: every alert of an object goes to one partition. */
  key: string;
  value: Buffer;
  /** The alert's jd, for pacing by exposure. */
  jd?: number;
}

export interface SkippedInput {
  skipped: ZadsError;
  source: AlertSource;
}

export type SourceItem = OutgoingMessage | SkippedInput;

export function isSkipped(item: SourceItem): item is SkippedInput {
  return 'skipped' in item;
}

export interface SimulationSourceOptions extends SimulateOptions {
  /** Message format. Default `container`. */
  format?: MessageFormat;
  /** Schema id written in Confluent wire-format messages (the registry id of the schema). Default 1. */
  schemaId?: number;
}

/** The 16-byte container sync marker of a simulated alert: from the seed and candid, so reruns are byte-identical. */
export function syncMarker(seed: number, candid: bigint): Buffer {
  const lo = Number(candid & 0xffffffffn);
  const hi = Number((candid >> 32n) & 0xffffffffn);
  const out = Buffer.allocUnsafe(16);
  for (let k = 0; k < 4; k++) out.writeUInt32BE(hashInts(seed, STREAM.sync, lo, hi, k), k * 4);
  return out;
}

/** Messages of a simulated night (see simulateNight), encoded one alert per message. Options are checked at once. */
export function fromSimulation(options: SimulationSourceOptions): Generator<SourceItem, void, undefined> {
  const sim = resolveSimulation(options);
  const format = options.format ?? 'container';
  const schemaId = options.schemaId ?? 1;
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0xffffffff) {
    throw new ZadsError('CONFIG_INVALID', `schemaId must be a whole number from 0 to 4294967295, not ${schemaId}`, { context: { key: 'schemaId' } });
  }
  return encode(simulateNight(options), sim, format, schemaId);
}

function* encode(alerts: Iterable<ZtfAlert>, sim: ResolvedSimulation, format: MessageFormat, schemaId: number): Generator<SourceItem, void, undefined> {
  for (const alert of alerts) {
    const value =
      format === 'container'
        ? writeContainer([alert], sim.schema, { sync: syncMarker(sim.seed, alert.candid), validate: false })
        : frameConfluent(schemaId, sim.schema.type.toBuffer(alert));
    yield { key: alert.objectId, value, jd: alert.candidate.jd };
  }
}

/**
 * Messages of existing alert files (files, folders of .avro files, UW night tarballs): each file's
 * bytes are sent exactly as read — never re-encoded — keyed by the objectId decoded from them. A file
 * that does not decode completely is skipped, not sent.
 */
export async function* fromFiles(paths: readonly string[]): AsyncGenerator<SourceItem, void, undefined> {
  for await (const item of readInputs(paths)) {
    if ('error' in item) {
      yield { skipped: item.error, source: item.source };
      continue;
    }
    let first;
    try {
      first = readContainer(item.bytes, { source: item.source })[0];
    } catch (err) {
      yield { skipped: toZadsError(err, { file: item.source.file, member: item.source.member }), source: item.source };
      continue;
    }
    if (!first) {
      const where = item.source.member ? `${item.source.file}:${item.source.member}` : item.source.file;
      yield {
        skipped: new ZadsError('ALERT_CORRUPT', `${where} holds no alert`, { context: { file: item.source.file, member: item.source.member } }),
        source: item.source,
      };
      continue;
    }
    yield { key: first.alert.objectId, value: item.bytes, jd: first.alert.candidate.jd };
  }
}
