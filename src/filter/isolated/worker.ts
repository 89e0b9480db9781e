import { parentPort, workerData } from 'node:worker_threads';
import { toZadsError } from '../../errors.ts';
import { FilterSet } from '../filter-set.ts';
import { evaluateItem } from '../judge.ts';
import { loadFilters } from '../load.ts';
import { probeViews } from './protocol.ts';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.ts';

/*
 * A filter worker: loads the filters itself (functions cannot cross threads), then decodes and judges
 * each item it is sent, writing the probe around every synchronous filter call.
 */
const port = parentPort!;
const init = (workerData as { init: WorkerInit }).init;
const { call, startedMs } = probeViews(init.probe);
const post = (message: FromWorker): void => port.postMessage(message);

try {
  const loaded = await loadFilters(init.specs, { cwd: init.cwd });
  const set = new FilterSet(loaded.map((l) => l.filter), { timeoutMs: init.timeoutMs, freezeAlerts: init.freezeAlerts });
  port.on('message', (msg: ToWorker) => void judge(set, msg));
  post({ type: 'ready', filters: loaded.map((l) => ({ name: l.filter.name, version: l.filter.version })) });
} catch (err) {
  const e = toZadsError(err);
  post({ type: 'failed', error: { code: e.code, message: e.message } });
}

async function judge(set: FilterSet, msg: ToWorker): Promise<void> {
  const onCall = (index: number): void => {
    if (index >= 0) {
      call[1] = msg.id;
      startedMs[0] = performance.timeOrigin + performance.now();
    }
    Atomics.store(call, 0, index);
  };
  const bytes = Buffer.from(msg.bytes.buffer, msg.bytes.byteOffset, msg.bytes.byteLength);
  try {
    const { alerts, evaluations } = await evaluateItem(set, bytes, msg.source, { candid: msg.candid, skip: new Set(msg.skip), onCall });
    post({ type: 'verdict', id: msg.id, alerts, evaluations });
  } catch (err) {
    const e = toZadsError(err);
    post({ type: 'undecodable', id: msg.id, error: { code: e.code, message: e.message, context: { ...e.context } } });
  }
}
