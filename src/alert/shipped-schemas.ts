import { readFileSync } from 'node:fs';
import { ZadsError } from '../errors.ts';
import { parseSchema } from './writer-schema.ts';
import type { WriterSchema } from './writer-schema.ts';

/** The ZTF schema versions we write with (files in schemas/ at the repository root). */
export const SHIPPED_VERSIONS = ['4.02', '3.3'] as const;
export type ShippedVersion = (typeof SHIPPED_VERSIONS)[number];
export const DEFAULT_WRITE_VERSION: ShippedVersion = '4.02';

const loaded = new Map<string, WriterSchema>();

/** Our writer schema of a ZTF version, parsed once. */
export function shippedSchema(version: string = DEFAULT_WRITE_VERSION): WriterSchema {
  const known = loaded.get(version);
  if (known) return known;
  if (!(SHIPPED_VERSIONS as readonly string[]).includes(version)) {
    throw new ZadsError(
      'SCHEMA_VERSION_UNSUPPORTED',
      `no writer schema for ZTF version ${version}; available: ${SHIPPED_VERSIONS.join(', ')}`,
      { context: { version } },
    );
  }
  const text = readFileSync(new URL(`../../schemas/${version}.avsc`, import.meta.url), 'utf8');
  const schema = parseSchema(text, `schemas/${version}.avsc`);
  loaded.set(version, schema);
  return schema;
}
