/**
 * The benchmark harness: stages, the context they run in, and the run itself. A stage measures one thing
 * and returns numbers; the harness selects stages, runs them one after the other (never two at once: the
 * machine has two cores and every stage would disturb the other), runs the cleanups they registered, and
 * sets each number beside the baseline it names.
 */

/** One number a stage measured. */
export interface StageResult {
  /** What was measured, e.g. "decode rate". Unique within its stage. */
  metric: string;
  value: number;
  /** e.g. "alerts/s", "MB/s" (MB = 2^20 bytes, as Kafka's tools count), "ms". */
  unit: string;
  /**
   * The baseline this number is compared against: a stage name ("avsc-alone") — the ratio is then taken
   * against that stage's result of the same metric — or "stage:metric" to name another metric.
   */
  baseline?: string;
  /** The goal in words, e.g. "≥ 10,000 alerts/s on one core". Shown, never enforced. */
  goal?: string;
  notes?: string;
}

/** What a stage gets from the harness. */
export interface BenchContext {
  /** Shorter runs (smaller sizes, ~1 s loops) for smoke tests. */
  readonly quick: boolean;
  /** The repository's root folder (absolute). */
  readonly repoRoot: string;
  /** Where stages may write scratch files (absolute); they delete what they write. */
  readonly dataDir: string;
  /** Bootstrap address of the Kafka cluster the Kafka stages use (the "ipac" one by default). */
  readonly kafkaBootstrap: string;
  /** Aborted on Ctrl-C: long loops should stop and child processes be ended. */
  readonly signal: AbortSignal;
  /** Hand-over between stages of one run (e.g. the topic the producer wrote, for the consumer). */
  readonly shared: Map<string, unknown>;
  /** Prints a progress line for the running stage; lines closer than a second apart are dropped unless `force`. */
  progress(message: string, force?: boolean): void;
  /**
   * Registers a cleanup that runs once the run ends — after the last stage, or on Ctrl-C — even when a
   * stage failed. Cleanups run newest first; each runs even if another fails.
   */
  defer(label: string, cleanup: () => unknown): void;
}

export interface Stage {
  /** Unique, kebab-case: "codec-decode". */
  name: string;
  /** What kind of stage: "baseline", "codec", … — `--only` matches it too. */
  group: string;
  /** One line on what it measures (shown by `--list`). */
  description: string;
  /**
   * Stages that must run earlier in the same run: the baselines this stage's results name, or the stage
   * that makes its input. `--only` pulls them in. They must come earlier in the registry.
   */
  dependsOn?: readonly string[];
  /** Runs only when `--only` names it (long or heavy stages: the load run takes a quarter of an hour). */
  onlyWhenAsked?: boolean;
  run(ctx: BenchContext): Promise<StageResult | StageResult[]>;
}

/** What became of one stage. */
export interface StageOutcome {
  name: string;
  group: string;
  ok: boolean;
  /** The error message when it failed. */
  error?: string;
  durationMs: number;
  results: ResultRow[];
}

/** A stage result with its comparison to its baseline worked out. */
export interface ResultRow extends StageResult {
  /** value / baseline value, when the baseline was measured in this run. */
  ratio?: number;
  /** The baseline actually compared against, as "stage:metric". */
  baselineResolved?: string;
}

/** Checks the registry: unique names, dependencies that exist and come earlier. Throws on a mistake. */
export function checkRegistry(stages: readonly Stage[]): void {
  const seen = new Set<string>();
  for (const stage of stages) {
    if (seen.has(stage.name)) throw new Error(`bench/stages.ts: stage "${stage.name}" is registered twice`);
    for (const dep of stage.dependsOn ?? []) {
      if (!seen.has(dep)) {
        throw new Error(`bench/stages.ts: stage "${stage.name}" depends on "${dep}", which is not registered before it`);
      }
    }
    seen.add(stage.name);
  }
}

/**
 * The stages to run, in registry order: those whose name or group contains one of the `only` substrings
 * (all when none is given), plus everything they depend on.
 */
export function selectStages(stages: readonly Stage[], only: readonly string[]): Stage[] {
  if (only.length === 0) return stages.filter((s) => !s.onlyWhenAsked);
  const byName = new Map(stages.map((s) => [s.name, s]));
  const wanted = new Set<string>();
  const add = (name: string): void => {
    if (wanted.has(name)) return;
    wanted.add(name);
    for (const dep of byName.get(name)?.dependsOn ?? []) add(dep);
  };
  for (const stage of stages) {
    if (only.some((o) => stage.name.includes(o) || stage.group.includes(o))) add(stage.name);
  }
  return stages.filter((s) => wanted.has(s.name));
}

export interface RunOptions {
  quick: boolean;
  repoRoot: string;
  dataDir: string;
  kafkaBootstrap: string;
  /** Where progress lines go; stderr by default, so that stdout holds only the table. */
  log?: (line: string) => void;
}

/** Runs the stages one after the other, then the cleanups; a failed stage is recorded and the run goes on. */
export async function runStages(stages: readonly Stage[], options: RunOptions): Promise<StageOutcome[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const abort = new AbortController();
  const cleanups: { label: string; fn: () => unknown }[] = [];
  let current = '';
  let lastProgress = 0;
  const ctx: BenchContext = {
    quick: options.quick,
    repoRoot: options.repoRoot,
    dataDir: options.dataDir,
    kafkaBootstrap: options.kafkaBootstrap,
    signal: abort.signal,
    shared: new Map(),
    progress(message, force = false) {
      const now = Date.now();
      if (!force && now - lastProgress < 1000) return;
      lastProgress = now;
      log(`  [${current}] ${message}`);
    },
    defer(label, fn) {
      cleanups.push({ label, fn });
    },
  };

  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(130);
    log('interrupted: stopping the running stage and cleaning up (Ctrl-C again to quit at once)');
    abort.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSigint);

  const outcomes: StageOutcome[] = [];
  try {
    for (const stage of stages) {
      if (abort.signal.aborted) break;
      current = stage.name;
      lastProgress = 0;
      log(`> ${stage.name} (${stage.group}): ${stage.description}`);
      const t0 = performance.now();
      try {
        const returned = await stage.run(ctx);
        const results = Array.isArray(returned) ? returned : [returned];
        const durationMs = performance.now() - t0;
        outcomes.push({ name: stage.name, group: stage.group, ok: true, durationMs, results });
        log(`  [${stage.name}] done in ${(durationMs / 1000).toFixed(1)} s`);
      } catch (err) {
        const durationMs = performance.now() - t0;
        const error = err instanceof Error ? err.message : String(err);
        outcomes.push({ name: stage.name, group: stage.group, ok: false, error, durationMs, results: [] });
        log(`  [${stage.name}] FAILED after ${(durationMs / 1000).toFixed(1)} s: ${error}`);
      }
    }
  } finally {
    current = 'cleanup';
    for (const { label, fn } of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        log(`  cleanup "${label}" failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    process.off('SIGINT', onSigint);
  }
  resolveBaselines(outcomes);
  return outcomes;
}

/** Fills in each result's ratio to its baseline, where the baseline was measured in this run. */
export function resolveBaselines(outcomes: StageOutcome[]): void {
  const byStage = new Map(outcomes.filter((o) => o.ok).map((o) => [o.name, o.results]));
  for (const outcome of outcomes) {
    for (const row of outcome.results) {
      if (!row.baseline) continue;
      const colon = row.baseline.indexOf(':');
      const stageName = colon < 0 ? row.baseline : row.baseline.slice(0, colon);
      const metric = colon < 0 ? row.metric : row.baseline.slice(colon + 1);
      const base = byStage.get(stageName)?.find((r) => r.metric === metric);
      if (base && base.value !== 0) {
        row.ratio = row.value / base.value;
        row.baselineResolved = `${stageName}:${metric}`;
      }
    }
  }
}
