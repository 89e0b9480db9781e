import { configSchema, loadConfig } from '../config/index.ts';
import type { ClusterConfig, ZadsConfig } from '../config/index.ts';
import { ZadsError } from '../errors.ts';

/**
 * The cluster a command talks to: `--brokers a:1,b:2` (or a cluster name from the config, "ipac"/"uw")
 * over the configured one. Security settings come from the named cluster's config.
 */
export function clusterFrom(config: ZadsConfig, value: string | undefined, fallback: 'ipac' | 'uw'): ClusterConfig {
  if (value === undefined || value === '') return config.clusters[fallback];
  if (value === 'ipac' || value === 'uw') return config.clusters[value];
  const brokers = value.split(',').map((b) => b.trim()).filter(Boolean);
  const bad = brokers.find((b) => !/^[^\s:]+:\d{1,5}$/.test(b));
  if (bad !== undefined || brokers.length === 0) {
    throw new ZadsError('CONFIG_INVALID', `brokers must be host:port[,host:port…] or "ipac"/"uw", not ${JSON.stringify(value)}`, {
      context: { key: 'brokers' },
    });
  }
  return { ...config.clusters[fallback], brokers };
}

/** The configuration's own defaults (no file, no environment), for help texts that name them. */
export const CONFIG_DEFAULTS: ZadsConfig = configSchema.parse({});

/** The configuration for a command: defaults, file (--config or $ZADS_CONFIG), environment. */
export function commandConfig(file: string | undefined): ZadsConfig {
  return loadConfig({ file });
}


/** `--topics <regex>`: the topics a command reads, as a whole-name pattern's source; a bad one is CONFIG_INVALID naming the flag. */
export function topicsArg(raw: string | undefined): RegExp {
  try {
    return new RegExp(raw ?? '');
  } catch (cause) {
    throw new ZadsError('CONFIG_INVALID', `--topics is not a valid regular expression: ${(cause as Error).message}`, { cause, context: { key: 'topics' } });
  }
}
