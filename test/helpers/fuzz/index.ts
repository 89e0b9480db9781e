/*
 * Seeded fuzzing helpers, one module per thing fuzzed: random.ts (seeds, the PRNG, random text),
 * varint.ts (Avro varints), container.ts and record.ts (container files and records, taken apart),
 * bytes.ts (blind mutations), schema.ts (writer-schema changes), seeds.ts and codec-cases.ts (codec
 * inputs), outcome.ts and decoder-process.ts (what a decode came to, in a process a watchdog can end).
 */
export { caseRandom, FuzzRandom, fuzzSeed, randomText } from './random.ts';
export { edgeLongs, encodeLong, readLong, tamperedVarint } from './varint.ts';
export { buildContainer, cloneParts, containerVarints, deflated, parseContainer } from './container.ts';
export type { ContainerParts } from './container.ts';
export { locateVarints } from './record.ts';
export type { Json, VarintAt, VarintKind } from './record.ts';
export { mutateBytes, splice } from './bytes.ts';
export { realSeeds, seedOf } from './seeds.ts';
export type { Seed } from './seeds.ts';
export { codecCase } from './codec-cases.ts';
export type { CodecCase, LookupAnswer } from './codec-cases.ts';
export { alertProblems, contractViolations, decodeOutcome, outcomeOfError } from './outcome.ts';
export type { Lost, Outcome } from './outcome.ts';
export { DecoderProcess } from './decoder-process.ts';
