import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ConnectionOptions } from 'node:tls';
import { ZadsError } from '../errors.ts';
import type { ClusterConfig } from '../config/index.ts';

/*
 * Why a TLS check of our own before the client connects: librdkafka treats a certificate it does not
 * trust like any broken connection — it logs "SSL handshake failed" and tries again for ever, and
 * connect() ends in a timeout that does not say why. One handshake up front tells "not trusted" (fatal,
 * say so) from "not reachable" (the client retries as usual).
 */

/** OpenSSL / Node verification results meaning "this chain does not lead to a CA we trust". */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

function where(cluster: ClusterConfig): string {
  return cluster.brokers.join(',');
}

/** The ZadsError for a TLS failure against one broker, or undefined when the error is not about TLS. */
export function tlsFailure(err: NodeJS.ErrnoException, broker: string, cluster: ClusterConfig): ZadsError | undefined {
  const code = err.code ?? '';
  const context = { brokers: where(cluster) };
  const host = broker.slice(0, broker.lastIndexOf(':'));
  if (UNTRUSTED.has(code)) {
    return new ZadsError(
      'KAFKA_TLS',
      `TLS: the certificate of Kafka broker ${broker} is not trusted (${err.message}). ` +
        `Set tls.caFile of this cluster in the config (clusters.ipac.tls or clusters.uw.tls) to the PEM file of the certificate authority that signed the brokers' certificates` +
        `${cluster.tls?.caFile ? `; ${cluster.tls.caFile} is set but did not sign it` : ''}.`,
      { cause: err, context },
    );
  }
  if (EXPIRED.has(code)) {
    return new ZadsError('KAFKA_TLS', `TLS: the certificate of Kafka broker ${broker} is not valid now (${err.message}); the broker needs a current certificate.`, {
      cause: err,
      context,
    });
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new ZadsError(
      'KAFKA_TLS',
      `TLS: the certificate of Kafka broker ${broker} is not for "${host}" (${err.message}). List the brokers in the config by a name (or IP) their certificates carry.`,
      { cause: err, context },
    );
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return new ZadsError(
      'KAFKA_TLS',
      `TLS handshake with Kafka broker ${broker} failed (${err.message}). Does that port take TLS (a SSL or SASL_SSL listener)? For a PLAINTEXT or SASL_PLAINTEXT listener leave tls out of the cluster's config.`,
      { cause: err, context },
    );
  }
  return undefined;
}

/** One TLS handshake with a broker: "ok", "no answer" (timed out), or the socket's error. */
function handshake(broker: string, ssl: ConnectionOptions, timeoutMs: number): Promise<'ok' | 'no answer' | NodeJS.ErrnoException> {
  const split = broker.lastIndexOf(':');
  const host = broker.slice(0, split);
  const port = Number(broker.slice(split + 1));
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...ssl });
    const done = (outcome: 'ok' | 'no answer' | NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done('no answer'), timeoutMs);
    socket.once('secureConnect', () => done('ok'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err));
  });
}

/**
 * Checks that the cluster's brokers present a certificate we trust, with the CA the client will use. Throws KAFKA_TLS when a broker answers with a certificate we do not trust; resolves "trusted"
 * when a handshake succeeds, "unreachable" when no broker answered (the client then reports that with its
 * own retries). Each handshake waits up to the cluster's connectionTimeoutMs.
 */
export async function checkTls(cluster: ClusterConfig, ssl: ConnectionOptions): Promise<'trusted' | 'unreachable'> {
  let failure: ZadsError | undefined;
  for (const broker of cluster.brokers) {
    const outcome = await handshake(broker, ssl, cluster.connectionTimeoutMs);
    if (outcome === 'ok') return 'trusted';
    if (outcome !== 'no answer') failure ??= tlsFailure(outcome, broker, cluster);
  }
  if (failure) throw failure;
  return 'unreachable';
}
