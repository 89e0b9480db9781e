import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameConfluent, writeContainer } from '../../src/alert/index.ts';
import { readAll } from '../../src/archive/index.ts';
import type { ZadsError } from '../../src/errors.ts';
import { ArchiveIngest } from '../../src/ingest/index.ts';
import { deleteTopics, ensureTopic } from '../../src/kafka/index.ts';
import { realAlerts, renumbered, tempArchive } from '../helpers/archive.ts';
import type { RealAlert, TempArchive } from '../helpers/archive.ts';
import { DecoderProcess, buildContainer, caseRandom, cloneParts, codecCase, deflated, fuzzSeed, parseContainer, realSeeds } from '../helpers/fuzz/index.ts';
import type { Lost, Outcome, Seed } from '../helpers/fuzz/index.ts';
import { cluster, kafkaFor, uniqueNightTopic } from '../helpers/kafka.ts';
import { UW_BROKERS } from '../helpers/services.ts';
import { waitFor } from '../helpers/wait.ts';

/*
 * The archive ingest against a stream of damaged messages mixed with good ones, on the real "uw"
 * broker. Each message is first classified by decoding it here exactly as the ingest does (some
 * mutations still decode: a flipped bit in a float is a valid alert), then the catalogue and the
 * quarantine must account for every one: each alert once, each undecodable message byte for byte with
 * its reason, and the ingest still archiving afterwards.
 */

const SEED = fuzzSeed('archive ingest', 20_240_611);
const MUTATED = 300;
const PARTITIONS = 3;
const NIGHT = '20180819';
const uw = kafkaFor(UW_BROKERS);

interface Sent {
  partition: number;
  offset: bigint;
  value: Buffer | null;
  label: string;
  outcome: Outcome;
}

/** Produces messages partition by partition, in order, in requests of about 2 MB; returns each one's offset. */
async function produce(topic: string, messages: { partition: number; value: Buffer | null }[]): Promise<bigint[]> {
  const producer = uw.producer({ idempotent: true });
  await producer.connect();
  const offsets: bigint[] = new Array(messages.length);
  try {
    for (let p = 0; p < PARTITIONS; p++) {
      const mine = messages.map((m, i) => ({ ...m, i })).filter((m) => m.partition === p);
      for (let start = 0; start < mine.length; ) {
        let end = start;
        let bytes = 0;
        while (end < mine.length && (end === start || bytes + (mine[end]!.value?.length ?? 0) < 2_000_000)) bytes += mine[end++]!.value?.length ?? 0;
        const chunk = mine.slice(start, end);
        const [meta] = await producer.send({ topic, messages: chunk.map((m) => ({ partition: p, key: `fuzz-${m.i}`, value: m.value })) });
        chunk.forEach((m, k) => (offsets[m.i] = BigInt(meta!.baseOffset!) + BigInt(k)));
        start = end;
      }
    }
  } finally {
    await producer.disconnect();
  }
  return offsets;
}

/**
 * Messages every run includes, whatever the seed: the edges the fuzzer found (each under a candid of its
 * own, so that losing it shows), and a few plain ones.
 */
function specials(seed: Seed, real: RealAlert): { value: Buffer | null; label: string }[] {
  const { alert, schema } = real.decoded;
  const own = (n: bigint) => ({ ...alert, candid: n, candidate: { ...alert.candidate, candid: n } });
  const renamedParts = parseContainer(writeContainer([own(9_210_000_000_000_000_001n)], schema));
  renamedParts.meta = renamedParts.meta.map(([k, v]) => [k, k === 'avro.schema' ? Buffer.from(v.toString('utf8').replace(/"name": "ra"/, '"name": "ra_"')) : v]);
  const nan = own(9_210_000_000_000_000_002n);
  nan.candidate.dec = Number.NaN;
  const empty = cloneParts(seed.parts);
  empty.blocks = [];
  return [
    { value: null, label: 'null value (tombstone)' },
    { value: Buffer.alloc(0), label: 'empty value' },
    { value: buildContainer(empty), label: 'container with no alert' },
    { value: buildContainer(renamedParts), label: 'schema with candidate.ra renamed' },
    { value: writeContainer([nan], schema, { validate: false }), label: 'candidate.dec NaN' },
    { value: frameConfluent(1, seed.bare!), label: 'Confluent wire format (no schema registry configured)' },
    { value: buildContainer(deflated(seed.parts)), label: `${seed.name} deflated (still a good alert)` },
  ];
}

describe(`archive ingest fuzz on the real "uw" broker (seed ${SEED})`, () => {
  const night = uniqueNightTopic(NIGHT);
  let temp: TempArchive;
  let ingest: ArchiveIngest;
  let decoder: DecoderProcess;
  const sent: Sent[] = [];
  const failures: ZadsError[] = [];
  let goodCount = 0;
  let specialCount = 0;

  const positionsSum = (): bigint => {
    let total = 0n;
    for (let p = 0; p < PARTITIONS; p++) total += temp.archive.catalogue.position(night.topic, p) ?? 0n;
    return total;
  };

  beforeAll(async () => {
    decoder = new DecoderProcess({ hangMs: 30_000 });
    const seeds = await realSeeds();
    const good = await realAlerts();
    goodCount = good.length;
    const rnd = caseRandom(SEED, -1);
    const values: { value: Buffer | null; label: string }[] = [
      ...good.map((g) => ({ value: g.bytes, label: `good alert ${g.candid}` })),
      ...specials(seeds[0]!, good[0]!),
    ];
    specialCount = values.length - good.length;
    for (let i = 0; i < MUTATED; i++) {
      const c = codecCase(caseRandom(SEED, i), seeds);
      values.push({ value: c.bytes, label: `case ${i}: ${c.label}` });
    }
    // Mixed: good and damaged messages interleaved, in an order fixed by the seed.
    for (let i = values.length - 1; i > 0; i--) {
      const j = rnd.int(i + 1);
      [values[i], values[j]] = [values[j]!, values[i]!];
    }
    const classified: { value: Buffer | null; label: string; outcome: Outcome; partition: number }[] = [];
    for (const v of values) {
      const r: Outcome | Lost = await decoder.decode(v.value ?? Buffer.alloc(0));
      if (r.kind === 'hung' || r.kind === 'crashed') throw new Error(`decoding ${v.label} ${r.kind}: ${r.message}`);
      // Everything that decodes goes to partition 0, so the first message of a candid is known (offset order);
      // undecodable ones are spread over all partitions.
      classified.push({ ...v, outcome: r, partition: r.kind === 'alerts' ? 0 : rnd.int(PARTITIONS) });
    }
    await ensureTopic(uw, { topic: night.topic, partitions: PARTITIONS });
    const offsets = await produce(night.topic, classified);
    classified.forEach((c, i) => sent.push({ partition: c.partition, offset: offsets[i]!, value: c.value, label: c.label, outcome: c.outcome }));

    temp = await tempArchive();
    ingest = new ArchiveIngest({
      cluster: cluster(UW_BROKERS),
      archive: temp.archive,
      topics: night.pattern,
      groupId: `zads-archive-fuzz-${randomUUID()}`,
      reportIntervalMs: 0,
    });
    ingest.onFailure((err) => failures.push(err));
    await ingest.start();
    await waitFor('every message archived or quarantined', () => failures.length > 0 || positionsSum() >= BigInt(sent.length), { timeoutMs: 100_000 });
  });

  afterAll(async () => {
    await ingest?.close();
    await decoder?.close();
    await temp?.cleanup();
    await deleteTopics(uw, [night.topic]).catch(() => undefined);
  });

  /** In offset order of partition 0: the first message of each candid, and how many alerts came again. */
  function expected(): { first: Map<string, Sent>; decodedAlerts: number; undecodable: Sent[] } {
    const first = new Map<string, Sent>();
    let decodedAlerts = 0;
    const ordered = [...sent].sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : 1));
    for (const s of ordered) {
      if (s.outcome.kind !== 'alerts') continue;
      for (const c of s.outcome.candids) {
        decodedAlerts++;
        if (!first.has(c)) first.set(c, s);
      }
    }
    return { first, decodedAlerts, undecodable: sent.filter((s) => s.outcome.kind === 'error') };
  }

  it('the mix is what it should be: good alerts, mutants that still decode, and a few hundred that do not', () => {
    const { first, undecodable } = expected();
    const mutantsThatDecode = sent.filter((s) => s.outcome.kind === 'alerts' && s.label.startsWith('case ')).length;
    process.stdout.write(`[fuzz] ingest mix: ${sent.length} messages, ${goodCount} good, ${mutantsThatDecode} mutants that still decode, ${undecodable.length} undecodable; ${first.size} distinct alerts\n`);
    expect(failures).toEqual([]);
    expect(sent).toHaveLength(goodCount + specialCount + MUTATED);
    expect(first.size).toBeGreaterThanOrEqual(goodCount);
    expect(undecodable.length).toBeGreaterThan(200);
    expect(mutantsThatDecode).toBeGreaterThan(10);
    const codes = new Set(undecodable.map((s) => (s.outcome as { code?: string }).code));
    for (const code of ['ALERT_NOT_CONTAINER', 'ALERT_TRUNCATED', 'ALERT_CORRUPT', 'SCHEMA_INVALID', 'SCHEMA_UNKNOWN']) expect([...codes]).toContain(code);
  });

  it('records every alert once, with the exact bytes of the first message that carried it', async () => {
    const { first } = expected();
    const rows = [...temp.archive.catalogue.alertsOfNight(NIGHT, night.programid)];
    expect(rows.map((r) => r.candid.toString()).sort()).toEqual([...first.keys()].sort());
    for (const [candid, s] of first) {
      const row = temp.archive.catalogue.alert(BigInt(candid))!;
      expect(row, `${candid} from ${s.label}`).toMatchObject({ topic: night.topic, partition: s.partition, kafkaOffset: s.offset, byteLength: s.value!.length });
      const stored = await temp.archive.segments.read(row.segment, row.byteOffset, row.byteLength);
      expect(stored.equals(s.value!), `${candid} from ${s.label}`).toBe(true);
    }
  });

  it('keeps every undecodable message byte for byte in the quarantine, with the reason a decode gives', async () => {
    const { undecodable } = expected();
    const quarantined = temp.archive.catalogue.quarantined();
    expect(quarantined).toHaveLength(undecodable.length);
    const byPosition = new Map(sent.map((s) => [`${s.partition}/${s.offset}`, s]));
    for (const q of quarantined) {
      const s = byPosition.get(`${q.partition}/${q.kafkaOffset}`);
      expect(s, `quarantined ${q.partition}/${q.kafkaOffset} was not sent`).toBeDefined();
      const o = s!.outcome as Extract<Outcome, { kind: 'error' }>;
      expect(o.kind, s!.label).toBe('error');
      expect({ topic: q.topic, code: q.code, reason: q.reason, byteLength: q.byteLength }, s!.label).toEqual({
        topic: night.topic,
        code: o.code,
        reason: o.message,
        byteLength: s!.value?.length ?? 0,
      });
      expect((await readAll(await temp.archive.local.get(q.key))).equals(s!.value ?? Buffer.alloc(0)), s!.label).toBe(true);
    }
  });

  it('counts add up: every message is archived or quarantined; alerts + duplicates = decoded alerts, offsets = messages', () => {
    const { first, decodedAlerts, undecodable } = expected();
    const quarantinedAt = new Set(temp.archive.catalogue.quarantined().map((q) => `${q.partition}/${q.kafkaOffset}`));
    for (const s of sent) {
      const accounted =
        s.outcome.kind === 'alerts'
          ? s.outcome.candids.length > 0 && s.outcome.candids.every((c) => temp.archive.catalogue.alert(BigInt(c)) !== undefined)
          : quarantinedAt.has(`${s.partition}/${s.offset}`);
      expect(accounted, `${s.label} (${s.outcome.kind}) is neither archived nor quarantined`).toBe(true);
    }
    expect(sent.filter((s) => s.outcome.kind === 'alerts').length + undecodable.length).toBe(sent.length);
    expect(ingest.stats).toMatchObject({ alerts: first.size, duplicates: decodedAlerts - first.size, quarantined: undecodable.length });
    expect(temp.archive.catalogue.countNight(NIGHT, night.programid).alerts).toBe(first.size);
    expect(temp.archive.catalogue.night(NIGHT, night.programid)).toMatchObject({ alerts: first.size });
    expect(temp.archive.catalogue.quarantineCount()).toBe(undecodable.length);
    expect(positionsSum()).toBe(BigInt(sent.length));
  });

  it('keeps going: alerts sent after the damage are archived too, and the ingest never failed', async () => {
    const more = [...renumbered(await realAlerts(), 5, 9_200_000_000_000_000_000n)];
    const offsets = await produce(night.topic, more.map((m, i) => ({ partition: i % PARTITIONS, value: m.bytes })));
    await waitFor('the later alerts archived', () => failures.length > 0 || positionsSum() >= BigInt(sent.length + more.length), { timeoutMs: 100_000 });
    expect(failures).toEqual([]);
    more.forEach((m, i) => {
      expect(temp.archive.catalogue.alert(m.candid)).toMatchObject({ partition: i % PARTITIONS, kafkaOffset: offsets[i] });
    });
    expect(ingest.stats.alerts).toBe(expected().first.size + more.length);
  });
});
