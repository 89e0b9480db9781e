/**
 * Kafka's own command-line tools (ProducerPerformance, ConsumerPerformance), run with `java` from the
 * jars ops/fetch.sh put in the cache — found the way ops/services.sh finds them; and MirrorMaker 2
 * (`ops/fetch.sh --mm2`), run as a long-lived child process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, javaExecutable, spawnJava, versionsEnv } from '../test/helpers/java.ts';
import type { BenchContext } from './harness.ts';

// Which java, where the jars are and the spawn: one launcher for the bench and the tests' own JVMs (broker, S3Proxy).
export { javaExecutable };

export interface KafkaTools {
  /** The java executable. */
  java: string;
  /** The folder of Kafka's jars. */
  libsDir: string;
  /** Kafka's version, from the cache's versions.env or the kafka-clients jar name. */
  version: string;
  /** ops/config/tools-log4j.properties when present: tool warnings to stderr, no INFO chatter. */
  log4jConfig: string | undefined;
}

/** The first line of `java -version`, or undefined when java does not run. */
export function javaVersion(java = javaExecutable()): string | undefined {
  const out = spawnSync(java, ['-version'], { encoding: 'utf8', timeout: 20_000 });
  if (out.status !== 0) return undefined;
  return out.stderr.split('\n')[0]?.trim() || undefined;
}

/** Finds java and Kafka's jars; throws, saying what to run, when the jars are not there. */
export function findKafkaTools(repoRoot: string): KafkaTools {
  const cache = cacheDir(repoRoot);
  const vars = versionsEnv(cache);
  const candidates: string[] = [];
  if (vars.KAFKA_LIBS) candidates.push(vars.KAFKA_LIBS);
  if (existsSync(cache)) {
    for (const entry of readdirSync(cache).sort().reverse()) {
      if (entry.startsWith('kafka-')) candidates.push(join(cache, entry, 'libs'));
    }
  }
  const libsDir = candidates.find((dir) => existsSync(dir) && readdirSync(dir).some((f) => /^kafka-tools-.*\.jar$/.test(f)));
  if (!libsDir) {
    throw new Error(
      `Kafka's jars (with kafka-tools) are not in ${cache}: run "bash ops/services.sh start", which fetches them`,
    );
  }
  const clientsJar = readdirSync(libsDir).find((f) => /^kafka-clients-.*\.jar$/.test(f));
  const version = vars.KAFKA_VERSION ?? clientsJar?.replace(/^kafka-clients-(.*)\.jar$/, '$1') ?? 'unknown';
  const log4j = join(repoRoot, 'ops', 'config', 'tools-log4j.properties');
  return { java: javaExecutable(), libsDir, version, log4jConfig: existsSync(log4j) ? log4j : undefined };
}

export interface ToolRunOptions {
  /** Ends the tool (SIGTERM, then SIGKILL 5 s later) when it runs longer. */
  timeoutMs: number;
  /** Called with each line the tool prints on stdout, as it prints it (progress). */
  onLine?: (line: string) => void;
}

/** Runs one Kafka tool class to its end; resolves with its stdout, rejects with the tail of its stderr. */
export function runKafkaTool(
  ctx: BenchContext,
  tools: KafkaTools,
  className: string,
  args: readonly string[],
  options: ToolRunOptions,
): Promise<string> {
  const jvm = ['-Xms128m', '-Xmx512m', '-XX:+UseG1GC', '-Djava.awt.headless=true'];
  if (tools.log4jConfig) jvm.push(`-Dlog4j.configuration=file:${tools.log4jConfig}`);
  const child = spawnJava({ java: tools.java, jvm, main: { classpath: `${tools.libsDir}/*`, className }, args });
  const short = className.replace(/^.*\./, '');
  return new Promise((resolve, reject) => {
    let stdout = '';
    let pending = '';
    const stderrTail: string[] = [];
    let stopReason: string | undefined;
    const stop = (reason: string): void => {
      if (stopReason || child.exitCode !== null) return;
      stopReason = reason;
      child.kill('SIGTERM');
      setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 5000).unref();
    };
    const timer = setTimeout(() => stop(`still running after ${options.timeoutMs / 1000} s`), options.timeoutMs);
    const onAbort = (): void => stop('interrupted');
    ctx.signal.addEventListener('abort', onAbort);

    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) options.onLine?.(line);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderrTail.push(...chunk.split('\n').filter((l) => l.trim()));
      stderrTail.splice(0, Math.max(0, stderrTail.length - 20));
    });
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(stdout);
    };
    child.on('error', (err) =>
      finish(new Error(`could not run ${tools.java} for ${short}: ${err.message} (set ZADS_JAVA or JAVA_HOME)`)),
    );
    child.on('close', (code, signal) => {
      if (code === 0 && !stopReason) return finish();
      const why = stopReason ?? (signal ? `killed by ${signal}` : `exit code ${code}`);
      const tail = stderrTail.slice(-5).join(' | ');
      finish(new Error(`${short} failed (${why})${tail ? `: ${tail}` : ''}`));
    });
  });
}

export interface MirrorMakerJars {
  java: string;
  /** The folder of connect-mirror, connect-runtime and their dependencies (MM2_LIBS of versions.env). */
  libsDir: string;
  /** MM2_VERSION: the broker's Kafka version. */
  version: string;
}

function mirrorMakerJarsIn(cache: string): MirrorMakerJars | undefined {
  const vars = versionsEnv(cache);
  const libsDir = vars.MM2_LIBS;
  if (!libsDir || !existsSync(libsDir) || !readdirSync(libsDir).some((f) => /^connect-mirror-\d.*\.jar$/.test(f))) return undefined;
  return { java: javaExecutable(), libsDir, version: vars.MM2_VERSION ?? 'unknown' };
}

/**
 * MirrorMaker 2's jars: fetched by `ops/fetch.sh --mm2` (Maven Central, ~32 MB, once) when versions.env
 * does not name them yet.
 */
export async function findMirrorMaker(ctx: BenchContext): Promise<MirrorMakerJars> {
  const cache = cacheDir(ctx.repoRoot);
  const found = mirrorMakerJarsIn(cache);
  if (found) return found;
  ctx.progress(`MirrorMaker 2 is not in ${cache}: running ops/fetch.sh --mm2`, true);
  const script = join(ctx.repoRoot, 'ops', 'fetch.sh');
  const child = spawn('bash', [script, '--mm2'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ZADS_CACHE_DIR: cache } });
  const tail: string[] = [];
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter((l) => l.trim())) {
      ctx.progress(line, true);
      tail.push(line);
    }
    tail.splice(0, Math.max(0, tail.length - 5));
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const fetched = code === 0 ? mirrorMakerJarsIn(cache) : undefined;
  if (!fetched) throw new Error(`ops/fetch.sh --mm2 did not fetch MirrorMaker 2 (exit code ${code}): ${tail.join(' | ')}`);
  return fetched;
}

/** A long-lived java child process (MirrorMaker 2), its output kept as a short tail. */
export interface JavaProcess {
  readonly pid: number | undefined;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
  running(): boolean;
  /** The last lines it printed on stdout and stderr. */
  outputTail(): string[];
  /** SIGTERM (a clean shutdown), SIGKILL after `graceMs`; resolves once it has ended. Idempotent. */
  stop(graceMs?: number): Promise<number | string>;
}

export function startJava(
  ctx: BenchContext,
  java: string,
  jvmArgs: readonly string[],
  classpath: string,
  className: string,
  args: readonly string[],
): JavaProcess {
  const child = spawnJava({ java, jvm: jvmArgs, main: { classpath, className }, args });
  const tail: string[] = [];
  const keep = (chunk: string): void => {
    tail.push(...chunk.split('\n').filter((l) => l.trim()));
    tail.splice(0, Math.max(0, tail.length - 20));
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  let ended = false;
  const exited = new Promise<number | string>((resolve) => {
    child.on('error', (err) => {
      ended = true;
      keep(`could not run ${java}: ${err.message} (set ZADS_JAVA or JAVA_HOME)`);
      resolve('spawn error');
    });
    child.on('close', (code, signal) => {
      ended = true;
      resolve(code ?? signal ?? 'unknown');
    });
  });
  let stopping: Promise<number | string> | undefined;
  const stop = (graceMs = 30_000): Promise<number | string> => {
    stopping ??= (async () => {
      if (ended) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => !ended && child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    })();
    return stopping;
  };
  const onAbort = (): void => void stop(5000);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  void exited.then(() => ctx.signal.removeEventListener('abort', onAbort));
  return { pid: child.pid, exited, running: () => !ended, outputTail: () => [...tail], stop };
}
