import { z } from 'zod';
import { DEFAULT_REPLAY_ALLOWED_TOPICS, DEFAULT_REPLAY_TOPIC_TEMPLATE, TOPIC_PATTERN_SYNTAX, protectedTopicRule, topicAllowed, topicFromTemplate } from '../replay/target-rules.ts';

const brokerAddress = z
  .string()
  .regex(/^[^\s:]+:\d{1,5}$/, 'a broker address is host:port, e.g. 127.0.0.1:19092');

/** SASL/SCRAM or PLAIN credentials for a Kafka cluster. */
const saslSchema = z
  .object({
    mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
    username: z.string().min(1),
    password: z.string().min(1),
  })
  .strict();

const tlsSchema = z
  .object({
    /** PEM file of the certificate authority that signed the brokers' certificates. */
    caFile: z.string().optional(),
    /** Skip certificate checks: for tests with self-made certificates only. */
    rejectUnauthorized: z.boolean().default(true),
  })
  .strict();

export const clusterSchema = z
  .object({
    /** Bootstrap brokers, host:port. */
    brokers: z.array(brokerAddress).min(1),
    /** Client id sent to the brokers (shows in their logs and quotas). */
    clientId: z.string().min(1).default('zads'),
    tls: tlsSchema.optional(),
    sasl: saslSchema.optional(),
    /** Time to wait for a broker connection, in ms. */
    connectionTimeoutMs: z.number().int().positive().default(10_000),
    /** Time to wait for one request, in ms. */
    requestTimeoutMs: z.number().int().positive().default(30_000),
  })
  .strict();

export const s3Schema = z
  .object({
    /** S3 endpoint URL; leave out for AWS itself. */
    endpoint: z.url().optional(),
    region: z.string().min(1).default('us-east-1'),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name: 3-63 of a-z, 0-9, ".", "-"'),
    /** Key prefix under which the archive lives, e.g. "ztf/". */
    prefix: z.string().default(''),
    accessKeyId: z.string().optional(),
    secretAccessKey: z.string().optional(),
    /** Path-style addressing (http://host/bucket/key), needed by S3Proxy, Ceph and SeaweedFS. */
    forcePathStyle: z.boolean().default(true),
    /** Size of each part of a multipart upload, in bytes (S3 needs at least 5 MiB). */
    partSizeBytes: z.number().int().min(5 * 1024 * 1024).default(16 * 1024 * 1024),
    /** Longest wait for a connection to the store, in ms. */
    connectionTimeoutMs: z.number().int().positive().default(10_000),
    /** A request whose socket sends and receives nothing for this long fails (and is retried later), in ms. */
    socketIdleTimeoutMs: z.number().int().positive().default(120_000),
  })
  .strict();

function topicPattern() {
  return z
    .string()
    .regex(TOPIC_PATTERN_SYNTAX, 'a topic pattern is 1-249 of A-Z, a-z, 0-9, ".", "_", "-", "*" (any run of those) and {nightTopic} (the replayed night\'s topic)');
}

/** An example night topic, to check the template and the patterns with. */
const EXAMPLE_NIGHT_TOPIC = 'ztf_20180819_programid1';

/**
 * Where replays may write (the replay target policy). Upstream nightly topics, filter outputs and Kafka's
 * internal topics are refused whatever these say, unless an admin token or `zads replay --allow-any-topic`
 * overrides it (and the log says who did).
 */
export const replaySchema = z
  .object({
    /** A replay's topic when the request names none; {nightTopic} stands for the night's topic. Default "{nightTopic}_replay". */
    topicTemplate: z
      .string()
      .regex(/^(?:[A-Za-z0-9._-]|\{nightTopic\}){1,249}$/, 'a topic name of A-Z, a-z, 0-9, ".", "_", "-" in which {nightTopic} stands for the night\'s topic')
      .default(DEFAULT_REPLAY_TOPIC_TEMPLATE),
    /**
     * Topics replays may write: whole-name patterns where "*" stands for any run of topic characters and
     * {nightTopic} for the replayed night's topic, e.g. ["{nightTopic}_replay", "replay.*"]. A token's
     * own replayTopics replace these for it. Default ["{nightTopic}_replay"].
     */
    allowedTopics: z.array(topicPattern()).min(1).default([...DEFAULT_REPLAY_ALLOWED_TOPICS]),
    /**
     * SASL credentials of the replays' own Kafka principal on the UW cluster, in place of clusters.uw.sasl:
     * with ACLs on the brokers it may write the replay topics only (ops/README.md, "Kafka ACLs").
     */
    sasl: saslSchema.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const example = topicFromTemplate(r.topicTemplate, EXAMPLE_NIGHT_TOPIC);
    const broken = protectedTopicRule(example);
    if (broken) {
      ctx.addIssue({ code: 'custom', path: ['topicTemplate'], message: `names topics like ${example}, which no replay may write: ${broken.reason}` });
    } else if (!topicAllowed(example, r.allowedTopics, EXAMPLE_NIGHT_TOPIC)) {
      ctx.addIssue({ code: 'custom', path: ['topicTemplate'], message: `names topics like ${example}, which replay.allowedTopics (${r.allowedTopics.join(', ')}) does not allow` });
    }
  });

/** One bearer token of the HTTP API. Only its SHA-256 is kept, never the token itself. */
export const apiTokenSchema = z
  .object({
    /** Who holds the token; shows in logs and in the replays it starts. */
    name: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'a token name is 1-64 of A-Z, a-z, 0-9, ".", "_", "@", "-"'),
    /** SHA-256 of the token as 64 hex digits: `printf %s "$TOKEN" | sha256sum`. */
    sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'the SHA-256 of the token, 64 hex digits (printf %s "$TOKEN" | sha256sum)'),
    /** What it may do: "read" (reads, when publicReads is off), "replay" (start and steer replays), "admin" (everything). */
    roles: z.array(z.enum(['read', 'replay', 'admin'])).min(1),
    /**
     * Topics this token's replays may write, replacing replay.allowedTopics for it (e.g. ["fink_*"]):
     * patterns as in replay.allowedTopics. Default: replay.allowedTopics.
     */
    replayTopics: z.array(topicPattern()).min(1).optional(),
  })
  .strict();

export const apiSchema = z
  .object({
    /** Address `zads serve` listens on. */
    host: z.string().min(1).default('127.0.0.1'),
    /** Port `zads serve` listens on (0: any free port). */
    port: z.number().int().min(0).max(65_535).default(8080),
    /** Reads (downloads, queries) need no token; when false they need a token with the "read" role. */
    publicReads: z.boolean().default(true),
    /** Bearer tokens for replay control and (with publicReads off) reads. */
    tokens: z
      .array(apiTokenSchema)
      .superRefine((tokens, ctx) => {
        // A token's name stands for it in logs, rate limits, roles and the replay target policy.
        tokens.forEach((t, i) => {
          if (tokens.findIndex((o) => o.name === t.name) < i) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `token name "${t.name}" is used twice; names must differ` });
        });
      })
      .default([]),
    /** Largest cone search radius, in degrees. */
    maxConeRadiusDeg: z.number().positive().max(10).default(1),
    /** Most alerts in one page of /v1/alerts or one cone search answer. */
    maxPageAlerts: z.number().int().min(1).max(100_000).default(10_000),
    /** Largest request body, in bytes (replay requests are well under 1 KB). */
    maxBodyBytes: z.number().int().min(1024).max(1024 * 1024).default(16 * 1024),
    /**
     * Requests each client may make per window: a client is its token (by name) or, without a token, its
     * IP address. Beyond it the API answers 429 with Retry-After. maxRequests 0 turns the limit off.
     */
    rateLimit: z
      .object({
        /** Length of the window, in seconds. */
        windowSeconds: z.number().int().min(1).max(86_400).default(60),
        /** Requests allowed per client per window; 0: no limit. */
        maxRequests: z.number().int().min(0).default(1_200),
      })
      .strict()
      .prefault({}),
    /**
     * Web origins (scheme://host[:port]) whose pages may call the API from a browser (CORS); "*" allows any
     * origin. Empty (the default): only pages served by this server. Credentials (cookies) are never allowed;
     * a cross-origin page sends its bearer token itself.
     */
    corsOrigins: z
      .array(z.union([z.literal('*'), z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, 'an origin is scheme://host[:port], e.g. https://broker.example.org')]))
      .default([]),
    /**
     * Folder of filter modules (.ts, .js, .py) that `POST /v1/replays` may name in `filters` by file name.
     * Absent: replay requests may use the predefined filters only (a module is code run on this server).
     */
    filterDir: z.string().min(1).optional(),
    /** Serve the web pages (nights, objects, search, replays) next to the API. */
    webPages: z.boolean().default(true),
  })
  .strict();

export const configSchema = z
  .object({
    /** Folder of the local archive: segments, catalogue, tarballs, quarantine. */
    dataDir: z.string().min(1).default('.zads/data'),
    clusters: z
      .object({
        /** The upstream (IPAC) cluster the producer writes to and the mirror reads from. */
        ipac: clusterSchema.prefault({ brokers: ['127.0.0.1:19092'] }),
        /** The UW cluster the mirror writes to and archive, filters and replay read from. */
        uw: clusterSchema.prefault({ brokers: ['127.0.0.1:29092'] }),
      })
      .strict()
      .prefault({}),
    archive: z
      .object({
        /** When to close idle nights: a cron expression, evaluated in UTC. Default daily at 14:00 UTC. */
        closeSchedule: z.string().min(9).default('0 14 * * *'),
        /** A night is closed by the schedule once no alert arrived for this long, in minutes. */
        closeIdleMinutes: z.number().int().min(0).default(60),
        /**
         * gzip level of the night tarballs, 0 (stored) to 9 (smallest). Default 6, zlib's and `gzip`'s default.
         * ZTF alerts are mostly gzipped cutouts: level 1 is ~1.5× faster for ~1 % more bytes (bench/README.md).
         */
        closeGzipLevel: z.number().int().min(0).max(9).default(6),
        /** Closed nights kept on local disk once they are safely in S3 (newest first); older ones are read from S3. */
        keepLocalNights: z.number().int().min(0).default(30),
      })
      .strict()
      .prefault({}),
    /** Where replays may write, and the replays' own Kafka credentials. */
    replay: replaySchema.prefault({}),
    /** The HTTP API (`zads serve`). */
    api: apiSchema.prefault({}),
    /** S3 store for closed nights; absent means local storage only. */
    s3: s3Schema.optional(),
    /** Python filter plug-ins (`zads filter --filter my_filter.py`, replays through them). */
    python: z
      .object({
        /**
         * The Python interpreter that runs them, with fastavro installed. Default: the project's virtual
         * environment, `<package>/.venv/bin/python`, which `bash ops/python-env.sh` makes.
         */
        interpreter: z.string().min(1).optional(),
        /** Host processes judging side by side. Default: the number of cores (at least 2). */
        workers: z.number().int().min(1).max(256).optional(),
      })
      .strict()
      .prefault({}),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .prefault({}),
  })
  .strict();

export type ZadsConfig = z.infer<typeof configSchema>;
export type ClusterConfig = z.infer<typeof clusterSchema>;
export type S3Config = z.infer<typeof s3Schema>;
export type ApiConfig = z.infer<typeof apiSchema>;
export type ApiToken = z.infer<typeof apiTokenSchema>;
export type ReplayConfig = z.infer<typeof replaySchema>;
