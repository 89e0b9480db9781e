import type { Archive } from '../archive/index.ts';
import { openNightReader } from '../archive/index.ts';
import type { NightReader } from '../archive/remote/index.ts';

/** What locates an alert's bytes: a catalogue row has these. */
export interface StoredAlert {
  night: string;
  programid: number;
  segment: string;
  byteOffset: number;
  byteLength: number;
}

/**
 * Reads the exact stored bytes of alerts, from the local segments or, for nights pruned to S3, by range
 * requests there (the night reader knows which). Readers are opened per night on first use and closed
 * together by `close()`; one instance serves one request, so a night pruned meanwhile is never read
 * through a reader opened before.
 */
export class AlertBytes {
  readonly #archive: Archive;
  readonly #readers = new Map<string, Promise<NightReader>>();

  constructor(archive: Archive) {
    this.#archive = archive;
  }

  async read(at: StoredAlert): Promise<Buffer> {
    const key = `${at.night}/${at.programid}`;
    let reader = this.#readers.get(key);
    if (!reader) {
      reader = openNightReader(this.#archive, { night: at.night, programid: at.programid });
      this.#readers.set(key, reader);
      reader.catch(() => this.#readers.delete(key));
    }
    return (await reader).alertBytes(at);
  }

  async close(): Promise<void> {
    const readers = [...this.#readers.values()];
    this.#readers.clear();
    for (const r of readers) await r.then((x) => x.close()).catch(() => undefined);
  }
}

/** Reads one alert's bytes. */
export async function readAlertBytes(archive: Archive, at: StoredAlert): Promise<Buffer> {
  const bytes = new AlertBytes(archive);
  try {
    return await bytes.read(at);
  } finally {
    await bytes.close();
  }
}
