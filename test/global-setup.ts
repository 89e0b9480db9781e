import { spawnSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';

/*
 * `npm test` needs the real Kafka clusters and S3Proxy. When they are not running (a newcomer's first
 * run), start them with ops/services.sh and stop them again at the end; when they are running (CI, a
 * developer's session), leave them alone. Pointing ZADS_TEST_*_BROKERS / ZADS_TEST_S3_ENDPOINT at other
 * services skips this.
 */

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const LOCAL_SERVICES: [name: string, port: number][] = [
  ['ipac', 19092],
  ['uw', 29092],
  ['s3', 9000],
];

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function services(action: 'start' | 'stop', names: string[]): void {
  const r = spawnSync('bash', ['ops/services.sh', action, ...names], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`bash ops/services.sh ${action} failed (exit ${r.status}); see the log lines above`);
}

export default async function setup(): Promise<(() => void) | undefined> {
  const external = ['ZADS_TEST_IPAC_BROKERS', 'ZADS_TEST_UW_BROKERS', 'ZADS_TEST_S3_ENDPOINT'].some((k) => process.env[k]);
  if (external) return undefined;
  const up = await Promise.all(LOCAL_SERVICES.map(([, port]) => portOpen(port)));
  const down = LOCAL_SERVICES.filter((_, i) => !up[i]).map(([name]) => name);
  if (down.length === 0) return undefined;
  process.stderr.write(`[test] starting the local services that are not running: ${down.join(' ')}\n`);
  services('start', down);
  return () => {
    process.stderr.write(`[test] stopping the services this test run started: ${down.join(' ')}\n`);
    services('stop', down);
  };
}
