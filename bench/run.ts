/**
 * `npm run bench [-- options]`: runs the benchmark stages, prints a table on stdout (progress goes to
 * stderr) and writes every result with the machine's description to bench/results/. Exits 1 when a
 * stage failed; speed never fails the run.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runStages, selectStages } from './harness.ts';
import { describeMachine, machineInfo } from './machine.ts';
import { defaultReportPath, formatTable, writeReport } from './report.ts';
import { STAGES } from './stages.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const DEFAULT_KAFKA = '127.0.0.1:19092';

const USAGE = `usage: npm run bench -- [options]

  --only <text>    run the stages whose name or group contains <text> (repeatable, or comma-separated),
                   plus the stages they depend on (their baselines, their input)
  --quick          short runs (smaller sizes, ~1 s loops): a smoke test, not a measurement
  --out <file>     write the JSON results there (default bench/results/bench-<timestamp>.json)
  --data <dir>     scratch folder for the disk stage (default .zads/bench under the repository)
  --kafka <h:p>    Kafka bootstrap server (default ${DEFAULT_KAFKA}, the "ipac" cluster of ops/services.sh)
  --list           list the stages and exit
  --help           this text
`;

function parseOptions(): ReturnType<typeof parse> {
  try {
    return parse();
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}

function parse() {
  return parseArgs({
    options: {
      only: { type: 'string', multiple: true, default: [] },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      data: { type: 'string' },
      kafka: { type: 'string', default: DEFAULT_KAFKA },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

const options = parseOptions();
if (options.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (options.list) {
  for (const s of STAGES) {
    const deps = s.dependsOn?.length ? ` (after ${s.dependsOn.join(', ')})` : '';
    process.stdout.write(`${s.name.padEnd(22)} ${s.group.padEnd(9)} ${s.description}${deps}\n`);
  }
  process.exit(0);
}

const only = options.only.flatMap((o) => o.split(',')).map((o) => o.trim()).filter(Boolean);
const stages = selectStages(STAGES, only);
if (stages.length === 0) {
  process.stderr.write(`bench: no stage matches --only ${only.join(',')} (see --list)\n`);
  process.exit(2);
}

const date = new Date();
const dataDir = resolve(options.data ?? `${REPO_ROOT}/.zads/bench`);
const machine = machineInfo(REPO_ROOT, date);
process.stderr.write(`bench: ${stages.map((s) => s.name).join(', ')}${options.quick ? ' (quick)' : ''}\n`);
process.stderr.write(`bench: ${describeMachine(machine)}\n`);

const outcomes = await runStages(stages, {
  quick: options.quick,
  repoRoot: REPO_ROOT,
  dataDir,
  kafkaBootstrap: options.kafka,
});

const outPath = resolve(options.out ?? defaultReportPath(REPO_ROOT, date));
await writeReport(outPath, {
  format: 1,
  date: date.toISOString(),
  machine,
  options: { quick: options.quick, only, dataDir, kafkaBootstrap: options.kafka },
  stages: outcomes,
});

process.stdout.write(`\n${describeMachine(machine)}${options.quick ? ' — QUICK run, not a measurement' : ''}\n\n`);
process.stdout.write(`${formatTable(outcomes)}\n\nresults: ${outPath}\n`);
const failed = outcomes.filter((o) => !o.ok);
if (failed.length > 0) {
  process.stderr.write(`bench: ${failed.length} stage(s) failed: ${failed.map((o) => o.name).join(', ')}\n`);
  process.exitCode = 1;
}
