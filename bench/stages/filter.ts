import { clusterSchema } from '../../src/config/index.ts';
import { FilterStream, InProcessJudge, PythonJudge, createJudge, purity, runBatch } from '../../src/filter/index.ts';
import type { BatchItem, Judge } from '../../src/filter/index.ts';
import { createKafka, deleteTopics, ensureTopic } from '../../src/kafka/index.ts';
import { distinctCopies, loadSampleAlert } from '../alert-sample.ts';
import type { Stage } from '../harness.ts';
import { measureRate, waitFor } from '../timing.ts';

/** The "uw" cluster of ops/services.sh: filters read and write there. */
const UW_BOOTSTRAP = process.env.ZADS_BENCH_UW ?? '127.0.0.1:29092';
const COPIES = 256;
const BATCH = 16;
/** The Python twin of the purity filter (src/filter/python/predefined/purity.py). */
const PURITY_PY = new URL('../../src/filter/python/predefined/purity.py', import.meta.url).pathname;


/**
 * The purity filter in stream mode on the "uw" cluster: a 16-partition night of real-size alerts (the
 * 3.3 sample's bytes, which pass the purity cut, so every alert is written again) produced beforehand,
 * judged and written exactly once, from start to the last input offset committed — beside the mirror's
 * throughput of the same run, which moves the same alerts exactly once between clusters. The filter
 * runs in a worker thread, as `zads filter` runs it by default. Also the judge rate without Kafka
 * (decode + purity), in the main thread beside the codec's decode rate, and in a worker thread.
 * Then the same night through the Python purity filter (fastavro in the project's .venv, as many host
 * processes as cores) on the stream, beside the TypeScript one, and both in batch mode (no Kafka).
 */
export const filterStage: Stage = {
  name: 'filter',
  group: 'filter',
  description: 'purity filter, stream mode on uw: alerts/s on a 16-partition night, beside the mirror; judge rate beside decode',
  dependsOn: ['mirror', 'codec-decode'],
  async run(ctx) {
    const sample = await loadSampleAlert();
    const kafka = createKafka(clusterSchema.parse({ brokers: [UW_BOOTSTRAP], clientId: 'zads-bench' }));
    const id = 800_000_000 + Math.floor(Math.random() * 1e8);
    const night = `ztf_20240101_programid${id}`;
    const output = `${night}_${purity.name}`;
    const outputPy = `${output}_py`;
    ctx.defer('delete filter bench topics', () => deleteTopics(kafka, [night, output, outputPy]));
    const count = ctx.quick ? 1000 : 10_000;
    await ensureTopic(kafka, { topic: night, partitions: 16 });
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    for (let i = 0; i < count; i += 100) {
      const messages = Array.from({ length: Math.min(100, count - i) }, (_, j) => ({ key: `ZTF24obj${(i + j) % 997}`, value: sample.payload }));
      await producer.send({ topic: night, messages });
      ctx.progress(`produced ${i + messages.length} of ${count} alerts to ${night}`);
    }
    await producer.disconnect();

    // As `zads filter` runs by default: the filters in a worker thread.
    const isolated = await createJudge([purity.name]);
    ctx.defer('close filter worker', () => isolated.close());
    const runner = new FilterStream({
      cluster: clusterSchema.parse({ brokers: [UW_BOOTSTRAP], clientId: 'zads-bench' }),
      judge: isolated,
      topics: new RegExp(`^${night}$`),
      name: `bench-${id}`,
      reportIntervalMs: 0,
    });
    ctx.defer('close filter runner', () => runner.close());
    const t0 = performance.now();
    await runner.start();
    await waitFor(ctx, `filtering ${count} alerts`, () => {
      ctx.progress(`judged ${runner.stats.consumed} of ${count}`);
      return runner.stats.consumed >= count;
    }, 600_000);
    const seconds = (performance.now() - t0) / 1000;
    const stats = runner.stats;
    await runner.close();

    // The Python purity filter on the same night, in its own group, writing <topic>_purity_py.
    const python = await createJudge([PURITY_PY]);
    ctx.defer('close Python filter hosts', () => python.close());
    const pyRunner = new FilterStream({
      cluster: clusterSchema.parse({ brokers: [UW_BOOTSTRAP], clientId: 'zads-bench' }),
      judge: python,
      topics: new RegExp(`^${night}$`),
      outputSuffix: '_{filter}_py',
      name: `bench-py-${id}`,
      reportIntervalMs: 0,
    });
    ctx.defer('close Python filter runner', () => pyRunner.close());
    const t1 = performance.now();
    await pyRunner.start();
    await waitFor(ctx, `filtering ${count} alerts in Python`, () => {
      ctx.progress(`Python: judged ${pyRunner.stats.consumed} of ${count}`);
      return pyRunner.stats.consumed >= count;
    }, 600_000);
    const pySeconds = (performance.now() - t1) / 1000;
    const pyStats = pyRunner.stats;
    await pyRunner.close();
    const pyRuntime = python instanceof PythonJudge ? `fastavro ${python.runtime.fastavro}, Python ${python.runtime.python}, ${python.pids.length} host processes` : '';

    const values = distinctCopies(sample.payload, COPIES);
    // Batch mode: the same alerts at rest (no Kafka), through runBatch as `zads filter --from` runs them.
    const batchRate = async (judge: Judge): Promise<{ perSecond: number; seconds: number; passed: number }> => {
      async function* inputs(): AsyncGenerator<BatchItem> {
        for (let i = 0; i < count; i++) yield { source: { file: 'bench', member: `${i}.avro` }, bytes: values[i % COPIES]! };
      }
      const t = performance.now();
      const report = await runBatch({ judge, inputs: inputs(), sink: { pass: () => undefined }, onProgress: (r) => ctx.progress(`batch: ${r.items} of ${count}`) });
      const secs = (performance.now() - t) / 1000;
      return { perSecond: report.alerts / secs, seconds: secs, passed: report.passed[purity.name] ?? 0 };
    };
    const tsBatch = await batchRate(isolated);
    const pyBatch = await batchRate(python);
    await python.close();
    if (pyBatch.passed !== count || tsBatch.passed !== count) throw new Error(`batch: ${pyBatch.passed} (Python) and ${tsBatch.passed} (TypeScript) of ${count} passed, not all`);

    let passed = 0;
    const judgeRate = (judge: Judge) =>
      measureRate(ctx, {
        warmupMs: ctx.quick ? 300 : 2000,
        durationMs: ctx.quick ? 1000 : 5000,
        batchSize: BATCH,
        itemName: 'alerts',
        // Awaited a batch at a time, side by side, as the stream runner judges a chunk.
        async runBatch(batch) {
          const verdicts = await Promise.all(
            Array.from({ length: BATCH }, (_, i) => judge.judge(values[(batch * BATCH + i) % COPIES]!, { topic: night, partition: 0, offset: String(i) })),
          );
          for (const v of verdicts) passed += v.passed[0]!.length;
        },
      });
    const inProcess = await judgeRate(new InProcessJudge([purity]));
    const inWorker = await judgeRate(isolated);
    await isolated.close();
    if (passed === 0) throw new Error('the purity filter passed none of the sample alerts');
    return [
      {
        metric: 'throughput',
        value: count / seconds,
        unit: 'alerts/s',
        baseline: 'mirror',
        goal: '≥ 0.5 of the mirror',
        notes: `${count} alerts of ${sample.payload.length} bytes in ${seconds.toFixed(1)} s, ${stats.written[purity.name]} passed and written, ${stats.transactions} transactions, from start (connect, group join) to the last commit`,
      },
      {
        metric: 'judge rate',
        value: inProcess.perSecond,
        unit: 'alerts/s',
        baseline: 'codec-decode:decode rate',
        notes: `decode + freeze + purity in the main thread, no Kafka: ${inProcess.items} alerts in ${inProcess.seconds.toFixed(2)} s`,
      },
      {
        metric: 'judge rate, worker',
        value: inWorker.perSecond,
        unit: 'alerts/s',
        baseline: 'filter:judge rate',
        notes: `the same in a worker thread (bytes copied over, verdicts back), ${BATCH} in flight: ${inWorker.items} alerts in ${inWorker.seconds.toFixed(2)} s`,
      },
      {
        metric: 'throughput, Python',
        value: count / pySeconds,
        unit: 'alerts/s',
        baseline: 'filter:throughput',
        goal: '≥ 0.8 of the TypeScript purity filter',
        notes: `the Python purity filter on the same night (${pyRuntime}), in its own group: ${count} alerts in ${pySeconds.toFixed(1)} s, ${pyStats.written[purity.name]} passed and written, ${pyStats.transactions} transactions`,
      },
      {
        metric: 'batch rate',
        value: tsBatch.perSecond,
        unit: 'alerts/s',
        notes: `runBatch over ${count} alerts at rest (no Kafka), the TypeScript purity filter in a worker thread: ${tsBatch.seconds.toFixed(2)} s`,
      },
      {
        metric: 'batch rate, Python',
        value: pyBatch.perSecond,
        unit: 'alerts/s',
        baseline: 'filter:batch rate',
        goal: '≥ 2,000 alerts/s',
        notes: `the same through the Python purity filter (each alert's raw bytes to a host process, decoded there with fastavro): ${pyBatch.seconds.toFixed(2)} s`,
      },
    ];
  },
};
