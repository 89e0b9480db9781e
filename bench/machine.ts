import os from 'node:os';
import { findKafkaTools, javaExecutable, javaVersion } from './java.ts';

/** What the numbers were measured on; written into every report. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  platform: string;
  kernel: string;
  arch: string;
  node: string;
  /** Kafka's version (of the jars the services and the perf tools run from), or null when not found. */
  kafka: string | null;
  /** First line of `java -version`, or null. */
  java: string | null;
  date: string;
}

export function machineInfo(repoRoot: string, date: Date): MachineInfo {
  let kafka: string | null = null;
  try {
    kafka = findKafkaTools(repoRoot).version;
  } catch {
    // no Kafka jars: the Kafka stages report that themselves
  }
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    platform: os.platform(),
    kernel: os.release(),
    arch: os.arch(),
    node: process.version,
    kafka,
    java: javaVersion(javaExecutable()) ?? null,
    date: date.toISOString(),
  };
}

/** One line for the top of the table. */
export function describeMachine(m: MachineInfo): string {
  const gib = (m.memoryBytes / 2 ** 30).toFixed(1);
  return `${m.cpus} × ${m.cpuModel}, ${gib} GiB, ${m.platform} ${m.kernel}, node ${m.node}, kafka ${m.kafka ?? '-'}, ${m.date}`;
}
