import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin } from '../../src/kafka/index.ts';
import { REPO_ROOT } from './cli.ts';

/*
 * The three-broker cluster of `bash ops/services.sh start cluster3`, for fail-over tests: start it when it
 * is down, crash one node (SIGKILL by the pid in its pid file, as ops/README.md allows: `services.sh stop`
 * is a graceful TERM, which lets the broker hand over its leaderships first), start it again, and ask the
 * cluster which node holds which role.
 */

const SERVICES_DIR = process.env.ZADS_SERVICES_DIR?.trim() || join(REPO_ROOT, '.services');

/** Node ids of cluster3, as `services.sh` names them (cluster3-1 … cluster3-3). */
export const CLUSTER3_NODES = [1, 2, 3] as const;

/**
 * Runs `bash ops/services.sh <args>` without blocking the event loop (a blocked loop stops draining the
 * pipes of the zads processes a test runs meanwhile), and resolves with its exit code and output.
 */
export function services(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['ops/services.sh', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/** True when all three nodes are up (`services.sh status cluster3` exits 0). */
export async function cluster3Up(): Promise<boolean> {
  return (await services(['status', 'cluster3'])).code === 0;
}

/** Starts the named nodes (default: all three) and waits until they answer; throws with the script's output. */
export async function startCluster3(nodes: readonly number[] = CLUSTER3_NODES): Promise<void> {
  const r = await services(['start', ...nodes.map((n) => `cluster3-${n}`)]);
  if (r.code !== 0) throw new Error(`bash ops/services.sh start ${nodes.map((n) => `cluster3-${n}`).join(' ')} failed:\n${r.output}`);
}

/** Stops the named nodes gracefully (default: all three). */
export async function stopCluster3(nodes: readonly number[] = CLUSTER3_NODES): Promise<void> {
  await services(['stop', ...nodes.map((n) => `cluster3-${n}`)]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Crashes a node: SIGKILL to the java process of its pid file, then waits until it is gone. */
export async function killNode(node: number): Promise<number> {
  const dir = join(SERVICES_DIR, 'cluster3', `node${node}`);
  const pid = Number(readFileSync(join(dir, 'pid'), 'utf8').trim());
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  // Never kill a recycled pid that is not this node's broker.
  if (!cmdline.includes(`${dir}/`)) throw new Error(`pid ${pid} in ${dir}/pid is not cluster3-${node}'s broker: ${cmdline}`);
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 30_000;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`cluster3-${node} (pid ${pid}) still alive 30 s after SIGKILL`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return pid;
}

/** Java's String.hashCode, which Kafka uses to place a group or transactional id on an internal partition. */
function javaHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The node coordinating a transactional id (`__transaction_state`) or a group (`__consumer_offsets`): the
 * leader of partition abs(hashCode(id)) % partitions of that internal topic, as the broker computes it.
 * -1 while that partition has no leader.
 */
export async function coordinatorOf(admin: Admin, kind: 'transaction' | 'group', id: string): Promise<number> {
  const topic = kind === 'transaction' ? '__transaction_state' : '__consumer_offsets';
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const partitions = meta[0]!.partitions;
  const p = (javaHashCode(id) & 0x7fffffff) % partitions.length;
  return partitions.find((x) => x.partitionId === p)?.leader ?? -1;
}

/** How many of the topic's partitions each node leads. */
export async function leadership(admin: Admin, topic: string): Promise<Map<number, number>> {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const out = new Map<number, number>(CLUSTER3_NODES.map((n) => [n, 0]));
  for (const p of meta[0]!.partitions) out.set(p.leader, (out.get(p.leader) ?? 0) + 1);
  return out;
}

/**
 * Waits until every partition of the topics has a leader and all its replicas in sync — the cluster is
 * whole again after a node came back, so another node may fail without an outage.
 */
export async function waitInSync(admin: Admin, topics: readonly string[], timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const meta = await admin.fetchTopicMetadata({ topics: [...topics] }).catch(() => undefined);
    const lagging = meta?.flatMap((t) =>
      t.partitions.filter((p) => p.leader < 0 || p.isr.length < p.replicas.length).map((p) => `${t.name}/${p.partitionId}`),
    );
    if (lagging && lagging.length === 0) return;
    if (Date.now() > deadline) throw new Error(`replicas still out of sync after ${timeoutMs} ms: ${lagging?.join(', ') ?? 'no metadata'}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
