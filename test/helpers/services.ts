/**
 * Addresses of the real services started by `bash ops/services.sh start` (see ops/README.md).
 * Each can be pointed elsewhere by an environment variable; broker lists are comma-separated.
 */

function env(name: string): string | undefined {
  const v = process.env[name]?.trim();
  return v ? v : undefined;
}

function brokers(name: string, fallback: readonly string[]): string[] {
  const v = env(name);
  return v ? v.split(',').map((b) => b.trim()).filter((b) => b.length > 0) : [...fallback];
}

/** Single-node KRaft cluster "ipac". Env: ZADS_TEST_IPAC_BROKERS. */
export const IPAC_BROKERS: string[] = brokers('ZADS_TEST_IPAC_BROKERS', ['127.0.0.1:19092']);

/** Single-node KRaft cluster "uw". Env: ZADS_TEST_UW_BROKERS. */
export const UW_BROKERS: string[] = brokers('ZADS_TEST_UW_BROKERS', ['127.0.0.1:29092']);

/**
 * Three-node KRaft cluster, started only by `bash ops/services.sh start cluster3`
 * (replication factor 3, min.insync.replicas 2). Env: ZADS_TEST_CLUSTER3_BROKERS.
 */
export const CLUSTER3_BROKERS: string[] = brokers('ZADS_TEST_CLUSTER3_BROKERS', [
  '127.0.0.1:39092',
  '127.0.0.1:39093',
  '127.0.0.1:39094',
]);

/** S3Proxy, filesystem backend; path-style addressing only. Env: ZADS_TEST_S3_ENDPOINT. */
export const S3_ENDPOINT: string = env('ZADS_TEST_S3_ENDPOINT') ?? 'http://127.0.0.1:9000';

/** Env: ZADS_TEST_S3_REGION. S3Proxy accepts any region in the signature. */
export const S3_REGION: string = env('ZADS_TEST_S3_REGION') ?? 'us-east-1';

/** The identity/credential S3Proxy is configured with. Env: ZADS_TEST_S3_ACCESS_KEY_ID, ZADS_TEST_S3_SECRET_ACCESS_KEY. */
export const S3_CREDENTIALS: { readonly accessKeyId: string; readonly secretAccessKey: string } = {
  accessKeyId: env('ZADS_TEST_S3_ACCESS_KEY_ID') ?? 'zads',
  secretAccessKey: env('ZADS_TEST_S3_SECRET_ACCESS_KEY') ?? 'zadszads',
};
