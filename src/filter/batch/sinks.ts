import type { AlertRef } from '../judge.ts';
import type { BatchItem, BatchSink } from './batch.ts';
import { TarballWriter } from './tarball-writer.ts';
import type { FilteredTarball } from './tarball-writer.ts';
import { memberTime } from '../../alert/index.ts';



/**
 * One UW-layout tarball per filter: each passing item's original bytes as `<candid>.avro`, the candid
 * of its (first) passing alert.
 */
export class TarballSink implements BatchSink {
  readonly #writers: TarballWriter[];

  /** `paths[i]` receives what passes filter i. */
  constructor(paths: readonly string[]) {
    this.#writers = paths.map((p) => new TarballWriter(p));
  }

  async pass(index: number, item: BatchItem, alerts: AlertRef[]): Promise<void> {
    const first = alerts[0]!;
    await this.#writers[index]!.add(`${first.candid}.avro`, item.bytes, memberTime(first));
  }

  async finish(): Promise<FilteredTarball[]> {
    const written: FilteredTarball[] = [];
    for (const w of this.#writers) written.push(await w.finish());
    return written;
  }

  async abort(): Promise<void> {
    for (const w of this.#writers) await w.abort();
  }
}

/** One line per passing alert: `filter candid objectId` (or a JSON object with the source too). */
export class ListSink implements BatchSink {
  readonly #names: readonly string[];
  readonly #write: (line: string) => void;
  readonly #json: boolean;

  constructor(names: readonly string[], write: (line: string) => void, options: { json?: boolean } = {}) {
    this.#names = names;
    this.#write = write;
    this.#json = options.json ?? false;
  }

  pass(index: number, item: BatchItem, alerts: AlertRef[]): void {
    const filter = this.#names[index]!;
    for (const alert of alerts) {
      this.#write(
        this.#json
          ? JSON.stringify({ filter, candid: alert.candid.toString(), objectId: alert.objectId, source: item.source })
          : `${filter}  ${alert.candid}  ${alert.objectId}`,
      );
    }
  }
}
