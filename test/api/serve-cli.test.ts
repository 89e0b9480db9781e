import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.ts';
import { runZads } from '../helpers/cli.ts';
import { SAMPLE_NIGHT, buildArchive } from './fixture.ts';
import type { ApiArchive } from './fixture.ts';

describe('zads serve', () => {
  let data: ApiArchive;

  beforeAll(async () => {
    data = await buildArchive();
  });

  afterAll(() => data?.cleanup());

  it('prints its URL, serves the archive, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [`${REPO_ROOT}bin/zads.js`, 'serve', '--data', data.dataDir, '--port', '0', '--host', '127.0.0.1'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ZADS_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = once(child, 'exit');
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no URL printed within 30 s; stderr: ${stderr}`)), 30_000);
        child.stdout!.setEncoding('utf8').on('data', (s: string) => {
          out += s;
          const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
      });
      const nights = (await (await fetch(`${url}/v1/nights`)).json()) as { nights: { night: string }[] };
      expect(nights.nights.map((n) => n.night)).toContain(SAMPLE_NIGHT);
      const tarball = await fetch(`${url}/alerts/public/ztf_public_${SAMPLE_NIGHT}.tar.gz`);
      expect(Buffer.from(await tarball.arrayBuffer()).equals(data.tarball)).toBe(true);
      child.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
      expect(stderr).toContain('stopped');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('says what is wrong with a bad --port', () => {
    const r = runZads(['serve', '--data', data.dataDir, '--port', 'eighty']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--port must be a port number/);
  });
});
