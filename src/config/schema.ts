import { z } from 'zod';

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
        /** Closed nights kept on local disk once they are safely in S3 (newest first); older ones are read from S3. */
        keepLocalNights: z.number().int().min(0).default(30),
      })
      .strict()
      .prefault({}),
    /** S3 store for closed nights; absent means local storage only. */
    s3: s3Schema.optional(),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .prefault({}),
  })
  .strict();

export type ZadsConfig = z.infer<typeof configSchema>;
export type ClusterConfig = z.infer<typeof clusterSchema>;
export type S3Config = z.infer<typeof s3Schema>;
