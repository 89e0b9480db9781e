import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';

function file(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'zads-config-')), 'zads.json');
  writeFileSync(path, content);
  return path;
}

describe('configuration', () => {
  it('runs on one machine with no configuration at all', () => {
    const c = loadConfig({ env: {} });
    expect(c.clusters.ipac.brokers).toEqual(['127.0.0.1:19092']);
    expect(c.clusters.uw.brokers).toEqual(['127.0.0.1:29092']);
    expect(c.s3).toBeUndefined();
    expect(c.dataDir).toBe('.zads/data');
  });

  it('layers defaults, then the file, then the environment, then overrides', () => {
    const path = file(JSON.stringify({ dataDir: '/from/file', clusters: { uw: { brokers: ['file:1'] } }, s3: { bucket: 'night-archive' } }));
    const c = loadConfig({ env: { ZADS_CONFIG: path, ZADS_UW_BROKERS: 'env1:9092, env2:9092' }, overrides: { dataDir: '/from/cli' } });
    expect(c.dataDir).toBe('/from/cli');
    expect(c.clusters.uw.brokers).toEqual(['env1:9092', 'env2:9092']);
    expect(c.s3).toMatchObject({ bucket: 'night-archive', region: 'us-east-1', forcePathStyle: true });
  });

  it('names the bad key', () => {
    expect(() => loadConfig({ env: { ZADS_UW_BROKERS: 'localhost' } })).toThrow(/clusters\.uw\.brokers\.0: a broker address is host:port/);
    expect(() => loadConfig({ file: file('{"clusterz": {}}'), env: {} })).toThrow(/Unrecognized key: "clusterz"/);
    expect(() => loadConfig({ env: { ZADS_S3_FORCE_PATH_STYLE: 'yes' } })).toThrow(/ZADS_S3_FORCE_PATH_STYLE must be "true" or "false"/);
    expect(() => loadConfig({ file: file('{"s3": {"bucket": "Bad_Bucket"}}'), env: {} })).toThrow(/s3\.bucket/);
  });

  it('says which file is missing or not JSON', () => {
    expect(() => loadConfig({ file: '/no/such/zads.json', env: {} })).toThrow(/cannot read config file \/no\/such\/zads\.json/);
    expect(() => loadConfig({ file: file('{ nope'), env: {} })).toThrow(/is not valid JSON/);
  });

  it('accepts the production example of ops/config/zads.example.json', () => {
    const c = loadConfig({ file: new URL('../../ops/config/zads.example.json', import.meta.url).pathname, env: {} });
    expect(c.clusters.ipac.sasl?.mechanism).toBe('scram-sha-512');
    expect(c.clusters.uw.brokers).toHaveLength(3);
    expect(c.s3?.bucket).toBe('ztf-alert-archive');
    expect(c.api.tokens[0]?.roles).toEqual(['replay']);
    // Replays under the prefix that ops/kafka-acls-replay.sh grants the replay principal by default.
    expect(c.replay).toMatchObject({ topicTemplate: 'replay_{nightTopic}', allowedTopics: ['replay_*'], sasl: { username: 'zads-replay' } });
    expect(readFileSync(new URL('../../ops/kafka-acls-replay.sh', import.meta.url), 'utf8')).toContain('PREFIX="${ZADS_REPLAY_TOPIC_PREFIX:-replay_}"');
  });
});
