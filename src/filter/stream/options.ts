import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ClusterConfig } from '../../config/index.ts';
import { ZadsError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Registry } from '../../metrics.ts';
import { DEFAULT_FILTER_TIMEOUT_MS } from '../filter-set.ts';
import type { Judge } from '../judge.ts';
import type { FilterId } from '../tally.ts';
import type { AlertFilter } from '../types.ts';
import { NIGHT_TOPIC_PATTERN } from '../../kafka/index.ts';
import { parseOptions, positive } from '../../options.ts';

/** Every default of a {@link FilterStream}'s options. */
export const FILTER_STREAM_DEFAULTS = Object.freeze({
  topics: NIGHT_TOPIC_PATTERN,
  outputSuffix: '_{filter}',
  timeoutMs: DEFAULT_FILTER_TIMEOUT_MS,
  freezeAlerts: true,
  discoveryIntervalMs: 1000,
  maxTransactionBytes: 4 * 1024 * 1024,
  maxFetchBytesPerPartition: 8 * 1024 * 1024,
  reportIntervalMs: 10_000,
});

/** Options of a {@link FilterStream}. */
export interface FilterStreamOptions {
  /** The cluster read from and written to (UW). Required. */
  cluster: ClusterConfig;
  /** The filters to run in this thread (names must differ). Give this or `judge`. */
  filters?: readonly AlertFilter[];
  /**
   * What runs the filters, e.g. `createJudge(loaded)` for a worker thread that a stuck filter cannot
   * stop. Give this or `filters`. It stays the caller's to close.
   */
  judge?: Judge;
  /**
   * Input topics, matched against whole names. Default {@link FILTER_STREAM_DEFAULTS.topics}. A topic whose
   * name ends in one of the output suffixes is never read, so a broad pattern does not feed outputs back in.
   */
  topics?: RegExp;
  /**
   * Output topic of an input topic and a filter: the input's name followed by this suffix, `{filter}`
   * standing for the filter's name (`_{filter}`: `ztf_20240101_programid1_purity`). With several filters it
   * must contain `{filter}`. Default {@link FILTER_STREAM_DEFAULTS.outputSuffix}.
   */
  outputSuffix?: string;
  /**
   * Names this runner: its consumer group is `zads-filter-<name>`, shared by every runner of that name (they
   * split the input partitions; a zombie is fenced by group generation, KIP-447). Default: the filter names
   * joined by "+".
   */
  name?: string;
  /** This process among the runners of one name: its transactional id is `zads-filter-<name>-<instance>`. Default: a random id. */
  instance?: string;
  /** With `filters`: longest a filter may take over one alert, in ms. Default {@link FILTER_STREAM_DEFAULTS.timeoutMs}. */
  timeoutMs?: number;
  /** With `filters`: freeze alerts before filters see them. Default {@link FILTER_STREAM_DEFAULTS.freezeAlerts}. */
  freezeAlerts?: boolean;
  /** How often the cluster is listed for new input topics, in ms. Default {@link FILTER_STREAM_DEFAULTS.discoveryIntervalMs}. */
  discoveryIntervalMs?: number;
  /** Most input bytes judged and committed in one transaction, in bytes. Default {@link FILTER_STREAM_DEFAULTS.maxTransactionBytes}. */
  maxTransactionBytes?: number;
  /** Most bytes fetched from one partition per request, in bytes. Default {@link FILTER_STREAM_DEFAULTS.maxFetchBytesPerPartition}. */
  maxFetchBytesPerPartition?: number;
  /** How often a progress line is logged, in ms; 0 turns it off. Default {@link FILTER_STREAM_DEFAULTS.reportIntervalMs}. */
  reportIntervalMs?: number;
  /** Where the runner logs. Default: nowhere. */
  logger?: Logger;
  /** Where the runner's Prometheus metrics go. Default: a private registry. */
  metrics?: Registry;
}

export interface ResolvedFilterStreamOptions extends Required<Omit<FilterStreamOptions, 'logger' | 'metrics' | 'filters' | 'judge'>> {
  /** The filters' names and versions, in order. */
  ids: FilterId[];
  filters: readonly AlertFilter[] | undefined;
  judge: Judge | undefined;
  logger: Logger | undefined;
  metrics: Registry | undefined;
}

function invalid(key: string, message: string): ZadsError {
  return new ZadsError('CONFIG_INVALID', `filter option ${key} ${message}`, { context: { key } });
}

/** The options a runner checks (the cluster is checked by the config schema, the filters below), with the defaults filled in. */
const filterStreamOptionsSchema = z.object({
  topics: z.instanceof(RegExp).default(FILTER_STREAM_DEFAULTS.topics),
  outputSuffix: z.string().default(FILTER_STREAM_DEFAULTS.outputSuffix),
  name: z.string().optional(),
  instance: z.string().default(() => randomUUID().slice(0, 8)),
  timeoutMs: positive().default(FILTER_STREAM_DEFAULTS.timeoutMs),
  freezeAlerts: z.boolean().default(FILTER_STREAM_DEFAULTS.freezeAlerts),
  discoveryIntervalMs: positive().default(FILTER_STREAM_DEFAULTS.discoveryIntervalMs),
  maxTransactionBytes: positive().default(FILTER_STREAM_DEFAULTS.maxTransactionBytes),
  maxFetchBytesPerPartition: positive().default(FILTER_STREAM_DEFAULTS.maxFetchBytesPerPartition),
  reportIntervalMs: positive({ allowZero: true }).default(FILTER_STREAM_DEFAULTS.reportIntervalMs),
});

/** The output topic of an input topic for one filter. */
export function outputTopic(input: string, suffix: string, filter: string): string {
  return `${input}${suffix.replaceAll('{filter}', filter)}`;
}

/** Fills in the defaults and checks every option; the caller's object is left untouched. */
export function resolveFilterStreamOptions(options: FilterStreamOptions): ResolvedFilterStreamOptions {
  if ((options.filters === undefined) === (options.judge === undefined)) throw invalid('filters', 'or judge must be given, not both');
  const ids = options.judge ? [...options.judge.filters] : options.filters!.map((f) => ({ name: f.name, version: f.version }));
  if (ids.length === 0) throw invalid('filters', 'must name at least one filter');
  const names = ids.map((f) => f.name);
  if (new Set(names).size !== names.length) throw invalid('filters', `must have different names (each names an output), not ${names.join(', ')}`);
  const checked = parseOptions('filter', filterStreamOptionsSchema, options);
  const name = checked.name ?? names.join('+');
  if (!/^[A-Za-z0-9._+-]{1,200}$/.test(name)) throw invalid('name', `may hold only letters, digits, ".", "_", "+" and "-" (1-200), not ${JSON.stringify(name)}`);
  const { outputSuffix } = checked;
  if (names.length > 1 && !outputSuffix.includes('{filter}')) {
    throw invalid('outputSuffix', `must contain {filter} when several filters run, or their outputs would share a topic (got ${JSON.stringify(outputSuffix)})`);
  }
  for (const f of names) {
    const suffix = outputSuffix.replaceAll('{filter}', f);
    if (!/^[A-Za-z0-9._-]+$/.test(suffix)) throw invalid('outputSuffix', `must give a topic-name suffix of A-Z, a-z, 0-9, ".", "_", "-", not ${JSON.stringify(suffix)}`);
  }
  return { cluster: options.cluster, ids, filters: options.filters, judge: options.judge, ...checked, name, logger: options.logger, metrics: options.metrics };
}
