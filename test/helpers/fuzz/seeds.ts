import { readFileSync } from 'node:fs';
import { iterateContainer, iterateTarball } from '../../../src/alert/index.ts';
import type { DecodedAlert } from '../../../src/alert/index.ts';
import { BROKEN_FILE, SAMPLE_TARBALL, goodAlertFiles } from '../data.ts';
import { parseContainer } from './container.ts';
import type { ContainerParts } from './container.ts';

/* The real alerts a codec fuzz run starts from. */

/** A real message to mutate: its bytes, its parts, its writer schema, and the bare record of its alert. */
export interface Seed {
  name: string;
  bytes: Buffer;
  parts: ContainerParts;
  /** The embedded writer schema text. */
  schemaText: string;
  /** Its first alert as a bare Avro record (what the Confluent wire format carries), when it has one. */
  bare?: Buffer;
}

export function seedOf(name: string, bytes: Buffer, bare?: Buffer): Seed {
  const parts = parseContainer(bytes);
  const schema = parts.meta.find(([k]) => k === 'avro.schema')?.[1];
  if (!schema) throw new Error(`${name} has no avro.schema`);
  return { name, bytes, parts, schemaText: schema.toString('utf8'), bare };
}

/**
 * The real messages fuzz cases start from: every single-alert file of the shared data (the v4.02 one
 * with its trailing garbage, the broken one), and the first `fromTarball` members of the sample night.
 */
export async function realSeeds(fromTarball = 5): Promise<Seed[]> {
  const bare = (bytes: Buffer): Buffer | undefined => {
    try {
      const first = iterateContainer(bytes).next().value as DecodedAlert | undefined;
      return first?.schema.type.toBuffer(first.alert);
    } catch {
      return undefined;
    }
  };
  const seeds = goodAlertFiles().map((f) => {
    const bytes = readFileSync(f.path);
    return seedOf(f.path.split('/').pop()!, bytes, bare(bytes));
  });
  seeds.push(seedOf(BROKEN_FILE.split('/').pop()!, readFileSync(BROKEN_FILE)));
  for await (const m of iterateTarball(SAMPLE_TARBALL)) {
    if (seeds.length >= goodAlertFiles().length + 1 + fromTarball) break;
    seeds.push(seedOf(`sample/${m.name}`, m.bytes, bare(m.bytes)));
  }
  return seeds;
}
