import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import type { S3Config } from '../../src/config/index.ts';
import { cacheDir, freePort, spawnJava, versionsEnv } from './java.ts';
import { s3ConfigAt } from './s3.ts';
import { S3_CREDENTIALS } from './services.ts';

/** How long a start may take before it is called failed, in ms (a JVM on a busy 2-core machine). */
const START_TIMEOUT_MS = 120_000;
/** How long a stop waits for the JVM after SIGTERM before SIGKILL, in ms. */
const STOP_TIMEOUT_MS = 20_000;

/**
 * A dedicated S3Proxy (filesystem backend) on a free port, with its own data folder, that a test may
 * stop and start again without disturbing the shared one of ops/services.sh on port 9000. Started from
 * the jar ops/fetch.sh put in the cache (.cache/versions.env: S3PROXY_JAR), the way ops/services.sh does.
 */
export interface S3ProxyServer {
  readonly port: number;
  readonly endpoint: string;
  /** Folder of its data (one sub-folder per bucket) and its log. */
  readonly dir: string;
  /** The pid of the running JVM, undefined while stopped. */
  readonly pid: number | undefined;
  /** Starts it (again, same port and data) and waits until it answers. */
  start(): Promise<void>;
  /** Stops it by pid (TERM, then KILL) and waits for the process to exit; idempotent. */
  stop(): Promise<void>;
  /** Stops it and removes its data folder. */
  destroy(): Promise<void>;
  /** Creates a bucket (a folder of the filesystem backend); works while stopped too. */
  createBucket(bucket: string): void;
  /** A validated S3 config for one bucket of this server. */
  config(bucket: string, prefix?: string): S3Config;
}

function s3proxyJar(): string {
  const jar = versionsEnv().S3PROXY_JAR;
  if (!jar || !existsSync(jar)) {
    throw new Error(`the S3Proxy jar is not in ${cacheDir()} (${join(cacheDir(), 'versions.env')} names none): run "bash ops/fetch.sh" (ops/services.sh start does)`);
  }
  return jar;
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Makes (but does not start) a dedicated S3Proxy on a free port with a new temporary data folder. */
export async function createS3Proxy(): Promise<S3ProxyServer> {
  const jar = s3proxyJar();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'zads-s3proxy-'));
  const data = join(dir, 'data');
  mkdirSync(data);
  const properties = join(dir, 's3proxy.conf');
  writeFileSync(
    properties,
    [
      `s3proxy.endpoint=${endpoint}`,
      's3proxy.authorization=aws-v2-or-v4',
      `s3proxy.identity=${S3_CREDENTIALS.accessKeyId}`,
      `s3proxy.credential=${S3_CREDENTIALS.secretAccessKey}`,
      'jclouds.provider=filesystem-nio2',
      `jclouds.filesystem.basedir=${data}`,
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  // A test that dies before its afterAll must not leave a JVM behind.
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    const c = child;
    if (!c) return;
    c.kill('SIGTERM');
    if (!(await waitExit(c, STOP_TIMEOUT_MS))) {
      c.kill('SIGKILL');
      await waitExit(c, STOP_TIMEOUT_MS);
    }
    child = undefined;
  };

  return {
    port,
    endpoint,
    dir,
    get pid() {
      return child?.pid;
    },
    async start() {
      if (child) return;
      const log = openSync(join(dir, 'server.log'), 'a');
      try {
        child = spawnJava({
          jvm: ['-Xms64m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true',
            '-Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener'],
          main: { jar },
          args: ['--properties', properties],
          stdio: ['ignore', log, log],
          env: { ...process.env, LOG_LEVEL: 'info', JETTY_LOG_LEVEL: 'warn' },
        });
      } finally {
        closeSync(log);
      }
      const started = child;
      const deadline = Date.now() + START_TIMEOUT_MS;
      while (!(await answers(endpoint))) {
        if (started.exitCode !== null || started.signalCode !== null || Date.now() > deadline) {
          await stop();
          const tail = readFileSync(join(dir, 'server.log'), 'utf8').split('\n').slice(-30).join('\n');
          throw new Error(`S3Proxy on ${endpoint} did not start (see ${dir}/server.log):\n${tail}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    stop,
    async destroy() {
      await stop();
      process.removeListener('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
    createBucket(bucket: string) {
      mkdirSync(join(data, bucket), { recursive: true });
    },
    config(bucket: string, prefix = '') {
      return s3ConfigAt(endpoint, 'us-east-1', bucket, prefix);
    },
  };
}

/** createS3Proxy, destroyed (stopped, its folder removed) when the current test ends. Not started. */
export async function s3ProxyForTest(): Promise<S3ProxyServer> {
  const s3 = await createS3Proxy();
  onTestFinished(() => s3.destroy());
  return s3;
}
