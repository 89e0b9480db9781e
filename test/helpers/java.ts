import { spawn } from 'node:child_process';
import type { ChildProcess, ChildProcessByStdio, StdioOptions } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/*
 * Launching the JVM programs the tests and the bench start themselves (a SASL_SSL Kafka broker,
 * S3Proxy, Kafka's tools, MirrorMaker 2): which java, where ops/fetch.sh put the jars, a free port, and
 * the spawn. No vitest here: the bench imports it too.
 */

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The java to use: $ZADS_JAVA, else $JAVA_HOME/bin/java, else `java` on the PATH (as ops/services.sh). */
export function javaExecutable(): string {
  if (process.env.ZADS_JAVA) return process.env.ZADS_JAVA;
  const home = process.env.JAVA_HOME;
  if (home && existsSync(join(home, 'bin', 'java'))) return join(home, 'bin', 'java');
  return 'java';
}

/** The cache ops/fetch.sh fills: $ZADS_CACHE_DIR, else .cache in the repository. */
export function cacheDir(repoRoot = REPO_ROOT): string {
  return process.env.ZADS_CACHE_DIR ?? join(repoRoot, '.cache');
}

/** The variables of the cache's versions.env (KAFKA_LIBS, S3PROXY_JAR, MM2_LIBS, …); none when it is missing. */
export function versionsEnv(cache = cacheDir()): Record<string, string> {
  const file = join(cache, 'versions.env');
  if (!existsSync(file)) return {};
  const vars: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) vars[m[1]!] = m[2]!.trim().replace(/^["']|["']$/g, '');
  }
  return vars;
}

/** A TCP port nobody listens on on 127.0.0.1 right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface JavaLaunch {
  /** JVM options: heap, GC, -D properties. */
  jvm: readonly string[];
  /** What runs: a main class on a class path, or an executable jar. */
  main: { classpath: string; className: string } | { jar: string };
  args?: readonly string[];
  /** Default: no stdin, stdout and stderr piped. */
  stdio?: StdioOptions;
  /** Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Default: {@link javaExecutable}. */
  java?: string;
}

/** Starts a JVM program. */
export function spawnJava(l: Omit<JavaLaunch, 'stdio'>): ChildProcessByStdio<null, Readable, Readable>;
export function spawnJava(l: JavaLaunch): ChildProcess;
export function spawnJava(l: JavaLaunch): ChildProcess {
  const main = 'jar' in l.main ? ['-jar', l.main.jar] : ['-cp', l.main.classpath, l.main.className];
  return spawn(l.java ?? javaExecutable(), [...l.jvm, ...main, ...(l.args ?? [])], { stdio: l.stdio ?? ['ignore', 'pipe', 'pipe'], env: l.env });
}
