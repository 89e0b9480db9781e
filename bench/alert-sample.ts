/**
 * The real ZTF 3.3 alert the codec stages decode, as the Kafka message value ZTF sends (a whole
 * single-alert Avro container file) and as the bare Avro record inside it.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';

/** In shared/ beside the clone (CI clones elsewhere with shared/ beside it). Read in place. */
export const SAMPLE_ALERT_PATH = fileURLToPath(
  new URL('../../shared/data/ztf/alerts/v3.3_472263571115115000.avro', import.meta.url),
);
export const SAMPLE_CANDID = 472263571115115000n;

// The Avro container file layout (spec "Object Container Files"), read with plain avsc.
const HEADER = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});
const LONG = avro.Type.forSchema('long');

export interface SampleAlert {
  /** The whole container file: one Kafka message value. */
  payload: Buffer;
  /** The one bare Avro record of its single block. */
  record: Buffer;
  /** The embedded writer schema, parsed from JSON (defaults still in). */
  schema: unknown;
}

export async function loadSampleAlert(): Promise<SampleAlert> {
  let payload: Buffer;
  try {
    payload = await readFile(SAMPLE_ALERT_PATH);
  } catch (err) {
    throw new Error(
      `the ZTF sample alert is not at ${SAMPLE_ALERT_PATH} (shared/data/ztf/ is expected beside the repository): ${(err as Error).message}`,
      { cause: err },
    );
  }
  const header = HEADER.decode(payload, 0) as { value: { meta: Record<string, Buffer> }; offset: number };
  const codec = header.value.meta['avro.codec']?.toString() || 'null';
  const schemaText = header.value.meta['avro.schema']?.toString('utf8');
  if (codec !== 'null' || !schemaText) throw new Error(`${SAMPLE_ALERT_PATH}: expected an uncompressed container with a schema`);
  const count = LONG.decode(payload, header.offset) as { value: number; offset: number };
  const size = LONG.decode(payload, count.offset) as { value: number; offset: number };
  if (count.value !== 1 || size.offset + size.value + 16 !== payload.length) {
    throw new Error(`${SAMPLE_ALERT_PATH}: expected one block holding one alert`);
  }
  return {
    payload,
    record: payload.subarray(size.offset, size.offset + size.value),
    schema: JSON.parse(schemaText) as unknown,
  };
}

/** `n` copies of `bytes`, each in its own memory, as a consumer gets distinct message values. */
export function distinctCopies(bytes: Buffer, n: number): Buffer[] {
  return Array.from({ length: n }, () => Buffer.from(bytes));
}
