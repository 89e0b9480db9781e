import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteTopics } from '../../src/kafka/index.ts';
import { runZads } from '../helpers/cli.ts';
import { SAMPLE_TARBALL } from '../helpers/data.ts';
import { kafkaFor } from '../helpers/kafka.ts';
import { IPAC_BROKERS } from '../helpers/services.ts';

describe('zads produce', () => {
  const topics: string[] = [];
  const newTopic = () => {
    const topic = `zads_test_produce_cli_${randomUUID()}`;
    topics.push(topic);
    return topic;
  };

  afterAll(async () => {
    await deleteTopics(kafkaFor(IPAC_BROKERS), topics);
  });

  it('publishes a simulated night and prints the report as one JSON line', () => {
    const topic = newTopic();
    const r = runZads(['produce', '--simulate', '500', '--seed', '1', '--night', '20240101', '--json', '--topic', topic, '--brokers', IPAC_BROKERS.join(',')]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(report).toMatchObject({ topic, alerts: 500, partitions: 16, skipped: 0 });
    expect(report.alertsPerSec).toBeGreaterThan(0);
    expect(report.sendLatencyMs).toHaveProperty('p99');
    // Off a terminal, progress is plain lines on stderr.
    expect(r.stderr).toMatch(/produce: 500\/500 alerts \(100%\)/);
  }, 90_000);

  it('publishes a UW tarball with --from and says so in words', () => {
    const topic = newTopic();
    const r = runZads(['produce', '--from', SAMPLE_TARBALL, '--topic', topic, '--partitions', '2', '--brokers', IPAC_BROKERS.join(',')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`published 30 alert\\(s\\) .* to ${topic}`));
  }, 60_000);

  it('fails within seconds on an unreachable broker, naming it and the way to start the local ones', () => {
    const started = Date.now();
    const r = runZads(['produce', '--simulate', '10', '--night', '20240101', '--brokers', '127.0.0.1:1', '--json'], { timeoutMs: 40_000 });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull();
    expect(r.stderr).toContain('127.0.0.1:1');
    expect(r.stderr).toContain('npm run services:start');
    expect(r.stdout).toBe('');
  }, 45_000);

  it('rejects --simulate together with --from', () => {
    const r = runZads(['produce', '--simulate', '10', '--from', SAMPLE_TARBALL, '--night', '20240101']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--simulate.*cannot be used with.*--from/);
  });

  it('rejects a night that is not a date, and a missing source', () => {
    const bad = runZads(['produce', '--simulate', '10', '--night', '2024-01-01', '--dry-run']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/night/);
    const none = runZads(['produce', '--night', '20240101']);
    expect(none.status).not.toBe(0);
    expect(none.stderr).toMatch(/--simulate COUNT.*--from PATH/);
  });

  // Regression: a night past 2042 made candids overflow 64 bits and died with "Do not know how to serialize a BigInt".
  it('names the range of nights the candid layout can hold, in one line with exit 2', () => {
    const r = runZads(['produce', '--night', '20500101', '--simulate', '1', '--brokers', '127.0.0.1:1']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^zads: night 20500101 is outside what ZTF's candid layout can hold: simulated nights run from 20170101 to 20420402 /);
    expect(runZads(['produce', '--night', '20420402', '--simulate', '1', '--dry-run']).status).toBe(0);
  });

  it('measures the simulation alone with --dry-run', () => {
    const r = runZads(['produce', '--simulate', '300', '--night', '20240101', '--dry-run', '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ alerts: 300, dryRun: true });
  });
});
