import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodePayload, frameConfluent, readContainer } from '../../src/alert/index.ts';
import { isZadsError } from '../../src/errors.ts';
import { TRAILING_GARBAGE_FILE, V33_FILE } from '../helpers/data.ts';

const v33 = readFileSync(V33_FILE);
const original = readContainer(v33)[0]!;

describe('Kafka message payloads', () => {
  it('decodes a ZTF message: one whole container file', async () => {
    const [decoded] = await decodePayload(v33, { source: { topic: 'ztf_20180425_programid1', partition: 3, offset: '42' } });
    expect(decoded!.alert.candid).toBe(472263571115115000n);
    expect(decoded!.source).toEqual({ topic: 'ztf_20180425_programid1', partition: 3, offset: '42' });
  });

  it('decodes the Confluent wire format through the schema lookup, asking once per id', async () => {
    const bare = original.schema.type.toBuffer(original.alert);
    const message = frameConfluent(17, bare);
    expect(message[0]).toBe(0);
    expect(message.readUInt32BE(1)).toBe(17);
    const asked: number[] = [];
    const lookup = (id: number) => {
      asked.push(id);
      return id === 17 ? original.schema.text : undefined;
    };
    for (let i = 0; i < 3; i++) {
      const [decoded] = await decodePayload(message, { schemaLookup: lookup });
      expect(decoded!.alert).toEqual(original.alert);
      expect(decoded!.schema.version).toBe('3.3');
    }
    expect(asked).toEqual([17]);
  });

  it('accepts an async lookup (a registry over HTTP)', async () => {
    const message = frameConfluent(5, original.schema.type.toBuffer(original.alert));
    const [decoded] = await decodePayload(message, { schemaLookup: async () => JSON.parse(original.schema.text) });
    expect(decoded!.alert.objectId).toBe(original.alert.objectId);
  });

  it('names an unknown schema id', async () => {
    const message = frameConfluent(99, original.schema.type.toBuffer(original.alert));
    await expect(decodePayload(message, { schemaLookup: () => undefined })).rejects.toMatchObject({
      code: 'SCHEMA_UNKNOWN',
      context: { schemaId: 99 },
    });
    await expect(decodePayload(message)).rejects.toMatchObject({ code: 'SCHEMA_UNKNOWN' });
  });

  it('refuses a truncated or padded Confluent record', async () => {
    const bare = original.schema.type.toBuffer(original.alert);
    const lookup = () => original.schema.text;
    await expect(decodePayload(frameConfluent(1, bare.subarray(0, bare.length - 100)), { schemaLookup: lookup })).rejects.toMatchObject({ code: 'ALERT_TRUNCATED' });
    await expect(decodePayload(frameConfluent(1, Buffer.concat([bare, Buffer.from([1, 2])])), { schemaLookup: lookup })).rejects.toMatchObject({ code: 'ALERT_CORRUPT', context: { bytePosition: bare.length + 5 } });
  });

  it('refuses a value that is neither form, with its Kafka position', async () => {
    const err = await decodePayload(Buffer.from('{"not":"avro"}'), { source: { topic: 't', partition: 0, offset: '7' } }).catch((e: unknown) => e);
    expect(isZadsError(err, 'ALERT_NOT_CONTAINER')).toBe(true);
    expect(err).toMatchObject({ context: { topic: 't', partition: 0, offset: '7', bytePosition: 0 } });
  });

  it('rejects a message with trailing garbage rather than passing half of it on', async () => {
    await expect(decodePayload(readFileSync(TRAILING_GARBAGE_FILE))).rejects.toMatchObject({ code: 'ALERT_CORRUPT' });
  });
});
