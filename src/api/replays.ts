import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import type { Archive } from '../archive/index.ts';
import type { ClusterConfig } from '../config/index.ts';
import type { Logger } from '../log.ts';
import type { Registry } from '../metrics.ts';
import { parseOptions, positive } from '../options.ts';
import { Replay, ReplayTargetPolicy } from '../replay/index.ts';
import type { ReplayReport, ReplaySelection } from '../replay/index.ts';
import { ApiError } from './errors.ts';
import { toZadsError } from '../errors.ts';
import { createJudge } from '../filter/index.ts';
import type { CreateJudgeOptions, Judge } from '../filter/index.ts';
import type { ReplayRequest } from './replay-request.ts';

const isModuleName = (name: string): boolean => /\.(py|ts|mts|js|mjs)$/.test(name);

/** How long close() waits for cancelled replays to finish their transaction in flight, ms. */
const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;

export interface ReplayRegistryOptions {
  /** The archive replays read. Required. */
  archive: Archive;
  /** The cluster every replay writes to (config clusters.uw). Required. */
  target: ClusterConfig;
  /** Where replays may write (config replay.*, api.tokens[].replayTopics). Default: the default policy, `<night topic>_replay` only. */
  policy?: ReplayTargetPolicy;
  /**
   * Folder of filter modules (.ts, .js, .py) a replay request may name by file name (config
   * api.filterDir). Default: none, requests may name predefined filters only — a module path from a
   * client would be code run on this server.
   */
  filterDir?: string;
  /** Where Python filters run (config python.*). Default: the Python judge's defaults. */
  python?: CreateJudgeOptions['python'];
  /** Replays running (or paused) at once; more are refused with 429. Default {@link REPLAY_REGISTRY_DEFAULTS.maxActive}. */
  maxActive?: number;
  /** Where the replays' Prometheus metrics go. Default: a private registry per replay. */
  metrics?: Registry;
  /** Where the registry and its replays log. Default: nowhere. */
  logger?: Logger;
}

/** Every default of a {@link ReplayRegistry}'s options. */
export const REPLAY_REGISTRY_DEFAULTS = Object.freeze({
  maxActive: 4,
});

/** The options a registry checks (the replays check their own), with the defaults filled in. */
const replayRegistryOptionsSchema = z.object({
  maxActive: positive({ integer: true }).default(REPLAY_REGISTRY_DEFAULTS.maxActive),
});

/** A replay as the API shows it: its report, what it was asked to send, who started it and when. */
export interface ReplayView extends ReplayReport {
  selection: ReplaySelection;
  startedBy: string | null;
  startedAt: string;
}

interface Entry {
  replay: Replay;
  selection: ReplaySelection;
  startedBy: string | null;
  startedAt: Date;
  run: Promise<unknown>;
}

/**
 * The replays started through the API in this process. Each runs in the background; its report is read
 * while it runs and kept after it ends (until the id is started again, which resumes it from its
 * checkpoint in Kafka).
 */
export class ReplayRegistry {
  readonly #o: ReplayRegistryOptions & z.output<typeof replayRegistryOptionsSchema>;
  readonly #entries = new Map<string, Entry>();
  /** Ids whose filters are loading: they count as active. */
  readonly #starting = new Set<string>();
  #closing: Promise<void> | undefined;
  /** Where replays may write. */
  readonly policy: ReplayTargetPolicy;

  constructor(options: ReplayRegistryOptions) {
    this.#o = { ...options, ...parseOptions('replay registry', replayRegistryOptionsSchema, options) };
    this.policy = options.policy ?? new ReplayTargetPolicy({ logger: options.logger });
  }

  #active(): Entry[] {
    return [...this.#entries.values()].filter((e) => ['running', 'paused'].includes(e.replay.status().state));
  }

  /** The filter specs of a request: predefined names as they are, module file names inside filterDir. */
  #filterSpecs(names: readonly string[]): string[] {
    return names.map((name) => {
      if (!isModuleName(name)) return name;
      if (this.#o.filterDir === undefined) {
        throw new ApiError('INVALID_BODY', `filter ${JSON.stringify(name)} is a module, but this server allows predefined filters only (set api.filterDir to allow modules from a folder)`);
      }
      return join(this.#o.filterDir, name);
    });
  }

  /** Starts (or resumes, by id) a replay of an archived night; with filters, once they have loaded. */
  async start(request: ReplayRequest, startedBy: string | undefined, caller: { admin: boolean } = { admin: false }): Promise<ReplayView> {
    if (this.#closing) throw new ApiError('SERVICE_UNAVAILABLE', 'the server is shutting down');
    const { night, programid } = request;
    if (!this.#o.archive.catalogue.night(night, programid)) {
      throw new ApiError('NOT_FOUND', `night ${night} programid ${programid} is not in the archive`);
    }
    // The target policy decides before any Kafka client exists; a refusal is REPLAY_TOPIC_REFUSED (403).
    if (request.allowAnyTopic && !caller.admin) throw new ApiError('FORBIDDEN', `"allowAnyTopic" needs a token with the "admin" role, which token "${startedBy ?? ''}" does not have`);
    const target = this.policy.resolve({ night, programid, topic: request.topic, caller: `token "${startedBy ?? ''}"`, token: startedBy, override: request.allowAnyTopic === true });
    const id = request.id ?? randomUUID();
    const existing = this.#entries.get(id);
    if (this.#starting.has(id)) throw new ApiError('CONFLICT', `replay ${id} is already starting`);
    if (existing && ['running', 'paused'].includes(existing.replay.status().state)) {
      throw new ApiError('CONFLICT', `replay ${id} is already ${existing.replay.status().state}`);
    }
    const { maxActive } = this.#o;
    if (this.#active().length + this.#starting.size >= maxActive) {
      throw new ApiError('TOO_MANY_REPLAYS', `${maxActive} replays are already running; cancel one or wait for one to end`);
    }
    const selection: ReplaySelection = { night, programid };
    if (request.from !== undefined) selection.fromJd = request.from;
    if (request.to !== undefined) selection.toJd = request.to;
    if (request.objectIds) selection.objectIds = [...request.objectIds];
    const specs = request.filters ? this.#filterSpecs(request.filters) : undefined;
    let filter: Judge | undefined;
    if (specs) {
      this.#starting.add(id);
      try {
        filter = await createJudge(specs, { python: this.#o.python, logger: this.#o.logger, metrics: this.#o.metrics });
      } catch (err) {
        const e = toZadsError(err);
        // A filter that does not load is the request's fault (a name or module that is no filter).
        if (e.code === 'CONFIG_INVALID' || e.code === 'INPUT_NOT_FOUND') throw new ApiError('INVALID_BODY', `filters: ${e.message}`);
        throw err;
      } finally {
        this.#starting.delete(id);
      }
      if (this.#closing) {
        await filter.close();
        throw new ApiError('SERVICE_UNAVAILABLE', 'the server is shutting down');
      }
    }
    let replay: Replay;
    try {
      replay = new Replay({
        id,
        archive: this.#o.archive,
        selection,
        target: this.#o.target,
        topic: target.topic,
        allowProtectedTopic: target.overridden,
        partitions: request.partitions,
        pacing: request.pacing,
        maxAlerts: request.maxAlerts,
        filter,
        logger: this.#o.logger,
        metrics: this.#o.metrics,
      });
    } catch (err) {
      await filter?.close();
      throw err;
    }
    const log = this.#o.logger?.child({ component: 'api', replay: id });
    // The report keeps the failure; the rejection is only logged, never left unhandled.
    const run = replay
      .run()
      .then(
        (report) => log?.info({ state: report.state, sent: report.sent }, 'replay ended'),
        (err: Error) => log?.error({ err }, 'replay failed'),
      )
      .finally(() => filter?.close());
    const entry: Entry = { replay, selection, startedBy: startedBy ?? null, startedAt: new Date(), run };
    this.#entries.set(id, entry);
    log?.info({ selection, topic: replay.topic, startedBy }, 'replay started');
    return view(entry);
  }

  get(id: string): ReplayView {
    return view(this.#entry(id));
  }

  list(): ReplayView[] {
    return [...this.#entries.values()].map(view);
  }

  pause(id: string): ReplayView {
    const e = this.#entry(id);
    e.replay.pause();
    return view(e);
  }

  resume(id: string): ReplayView {
    const e = this.#entry(id);
    e.replay.resume();
    return view(e);
  }

  /** Asks the replay to stop after its transaction in flight; its state turns "cancelled" once it has. */
  cancel(id: string): ReplayView {
    const e = this.#entry(id);
    e.replay.cancel();
    return view(e);
  }

  #entry(id: string): Entry {
    const e = this.#entries.get(id);
    if (!e) throw new ApiError('NOT_FOUND', `no replay ${id} in this server (replays are kept while it runs)`);
    return e;
  }

  /** Cancels every replay and waits (up to `timeoutMs`) for them to stop; idempotent. */
  close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    this.#closing ??= (async () => {
      const entries = [...this.#entries.values()];
      for (const e of entries) e.replay.cancel();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([Promise.all(entries.map((e) => e.run)), timeout]);
      clearTimeout(timer);
    })();
    return this.#closing;
  }
}

function view(e: Entry): ReplayView {
  return { ...e.replay.status(), selection: e.selection, startedBy: e.startedBy, startedAt: e.startedAt.toISOString() };
}
