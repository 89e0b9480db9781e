import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.ts';

const servicesDir = process.env.ZADS_SERVICES_DIR ?? `${REPO_ROOT}.services`;
const external = ['ZADS_TEST_IPAC_BROKERS', 'ZADS_TEST_UW_BROKERS', 'ZADS_TEST_S3_ENDPOINT'].some((k) => process.env[k]);

function services(...args: string[]) {
  return spawnSync('bash', ['ops/services.sh', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 180_000 });
}

function pidOf(name: string): string {
  return readFileSync(`${servicesDir}/${name}/pid`, 'utf8').trim();
}

describe.runIf(!external)('ops/services.sh', () => {
  it('reports the default services up', () => {
    const r = services('status', 'ipac', 'uw', 's3');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ipac\s+\d+\s+19092\s+up/m);
    expect(r.stdout).toMatch(/^uw\s+\d+\s+29092\s+up/m);
    expect(r.stdout).toMatch(/^s3\s+\d+\s+9000\s+up/m);
  });

  it('start is idempotent: running services keep their process', () => {
    const before = ['ipac', 'uw', 's3'].map(pidOf);
    const r = services('start');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/ipac: already running/);
    expect(['ipac', 'uw', 's3'].map(pidOf)).toEqual(before);
  });

  it('keeps logs and data under one folder', () => {
    for (const name of ['ipac', 'uw', 's3']) {
      expect(existsSync(`${servicesDir}/${name}/server.log`) || existsSync(`${servicesDir}/${name}/stdout.log`), name).toBe(true);
    }
  });

  it('says status is not up for a service that is not running, with a non-zero exit', () => {
    const r = services('status', 'cluster3-3');
    if (r.stdout.match(/^cluster3-3\s+\S+\s+39094\s+up/m)) return; // someone runs the three-broker cluster
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/^cluster3-3\s+-\s+39094\s+down/m);
  });

  it('refuses an unknown service name', () => {
    const r = services('start', 'zookeeper');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/zookeeper/);
  });
});
