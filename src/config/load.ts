import { readFileSync } from 'node:fs';
import { ZadsError } from '../errors.ts';
import { configSchema } from './schema.ts';
import type { ZadsConfig } from './schema.ts';

/**
 * Environment variables and the config key each sets. Lists are comma-separated; booleans are
 * "true"/"false". Anything not listed here is read from the config file only.
 */
export const ENV_KEYS: Readonly<Record<string, { path: string[]; kind: 'string' | 'list' | 'bool' | 'int' }>> = {
  ZADS_DATA_DIR: { path: ['dataDir'], kind: 'string' },
  ZADS_IPAC_BROKERS: { path: ['clusters', 'ipac', 'brokers'], kind: 'list' },
  ZADS_UW_BROKERS: { path: ['clusters', 'uw', 'brokers'], kind: 'list' },
  ZADS_S3_ENDPOINT: { path: ['s3', 'endpoint'], kind: 'string' },
  ZADS_S3_REGION: { path: ['s3', 'region'], kind: 'string' },
  ZADS_S3_BUCKET: { path: ['s3', 'bucket'], kind: 'string' },
  ZADS_S3_PREFIX: { path: ['s3', 'prefix'], kind: 'string' },
  ZADS_S3_ACCESS_KEY_ID: { path: ['s3', 'accessKeyId'], kind: 'string' },
  ZADS_S3_SECRET_ACCESS_KEY: { path: ['s3', 'secretAccessKey'], kind: 'string' },
  ZADS_S3_FORCE_PATH_STYLE: { path: ['s3', 'forcePathStyle'], kind: 'bool' },
  ZADS_PYTHON: { path: ['python', 'interpreter'], kind: 'string' },
  ZADS_PYTHON_WORKERS: { path: ['python', 'workers'], kind: 'int' },
  ZADS_LOG_LEVEL: { path: ['log', 'level'], kind: 'string' },
  ZADS_CLOSE_SCHEDULE: { path: ['archive', 'closeSchedule'], kind: 'string' },
  ZADS_CLOSE_IDLE_MINUTES: { path: ['archive', 'closeIdleMinutes'], kind: 'int' },
  ZADS_CLOSE_GZIP_LEVEL: { path: ['archive', 'closeGzipLevel'], kind: 'int' },
  ZADS_KEEP_LOCAL_NIGHTS: { path: ['archive', 'keepLocalNights'], kind: 'int' },
  ZADS_REPLAY_TOPIC_TEMPLATE: { path: ['replay', 'topicTemplate'], kind: 'string' },
  ZADS_REPLAY_ALLOWED_TOPICS: { path: ['replay', 'allowedTopics'], kind: 'list' },
};

type Json = Record<string, unknown>;

function setPath(target: Json, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node[key] = next !== null && typeof next === 'object' ? { ...(next as Json) } : {};
    node = node[key] as Json;
  }
  node[path[path.length - 1]!] = value;
}

function fromEnv(name: string, raw: string, kind: 'string' | 'list' | 'bool' | 'int'): unknown {
  switch (kind) {
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter(Boolean);
    case 'bool':
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw new ZadsError('CONFIG_INVALID', `${name} must be "true" or "false", not ${JSON.stringify(raw)}`, { context: { key: name } });
    case 'int':
      if (/^\d+$/.test(raw)) return Number(raw);
      throw new ZadsError('CONFIG_INVALID', `${name} must be a whole number, not ${JSON.stringify(raw)}`, { context: { key: name } });
    default:
      return raw;
  }
}

export interface LoadConfigOptions {
  /** A JSON config file; defaults to $ZADS_CONFIG when set. */
  file?: string;
  /** Environment to read; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Values that win over file and environment (command-line options). */
  overrides?: Json;
}

/**
 * Builds the one typed configuration: defaults, then the file, then the environment, then overrides.
 * Any invalid or unknown key fails here, at start, with a message naming it.
 */
export function loadConfig(options: LoadConfigOptions = {}): ZadsConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env.ZADS_CONFIG;
  let merged: Json = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new ZadsError('CONFIG_INVALID', `cannot read config file ${file}: ${(cause as Error).message}`, { cause, context: { file } });
    }
    try {
      merged = JSON.parse(text) as Json;
    } catch (cause) {
      throw new ZadsError('CONFIG_INVALID', `config file ${file} is not valid JSON: ${(cause as Error).message}`, { cause, context: { file } });
    }
  }
  for (const [name, { path, kind }] of Object.entries(ENV_KEYS)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') setPath(merged, path, fromEnv(name, raw, kind));
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setPath(merged, key.split('.'), value);
  }
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ZadsError('CONFIG_INVALID', `invalid configuration${file ? ` (${file})` : ''}: ${problems.join('; ')}`, {
      context: { key: parsed.error.issues[0]?.path.join('.') },
    });
  }
  return parsed.data;
}
