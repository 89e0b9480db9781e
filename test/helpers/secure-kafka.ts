import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './cli.ts';
import { cacheDir, freePort, javaExecutable, spawnJava, versionsEnv } from './java.ts';

/*
 * A dedicated single-node Apache Kafka (KRaft, broker + controller) whose client listener is SASL_SSL
 * with SCRAM-SHA-512, on free ports in a temp folder: the certificates are made here with openssl, the
 * SCRAM user is written into the metadata log when the storage is formatted. The controller and the
 * inter-broker listener (transaction markers go broker → broker even on one node) are PLAINTEXT on
 * 127.0.0.1 only. Stopped by pid.
 */

const run = promisify(execFile);

/** Longest wait for the broker to say "Kafka Server started", in ms (2 shared cores, a cold JVM). */
const DEFAULT_START_TIMEOUT_MS = 150_000;
/** Wait after SIGTERM before SIGKILL, in ms. */
const STOP_TIMEOUT_MS = 20_000;

export interface TestCa {
  dir: string;
  /** PEM of the certificate authority: what goes into the config's `tls.caFile`. */
  caFile: string;
  keyFile: string;
}

export interface SecureKafka {
  /** Bootstrap address of the SASL_SSL listener. */
  brokers: string[];
  caFile: string;
  username: string;
  password: string;
  dir: string;
  /** The PLAINTEXT inter-broker listener on 127.0.0.1: its principal (ANONYMOUS) is a super user. */
  internalBootstrap: string;
  /**
   * The `clusters.<name>` entry of a zads config file for this broker (overrides merged in); `username`
   * with `password` logs in as one of `users` instead of the admin.
   */
  clusterConfig(overrides?: { username?: string; password?: string; caFile?: string | null }): Record<string, unknown>;
  /** Runs `bash ops/<script> --bootstrap-server <internal listener> …args` (e.g. kafka-acls-replay.sh) as a super user. */
  opsScript(script: string, args?: readonly string[], env?: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

export interface SecureKafkaOptions {
  /** CA that signs the broker certificate; a new one per broker when absent. */
  ca?: TestCa;
  username?: string;
  password?: string;
  startTimeoutMs?: number;
  /**
   * Run Kafka's StandardAuthorizer: the admin user and the PLAINTEXT inter-broker and controller
   * listeners (ANONYMOUS) are super users; every other user can do only what ACLs allow.
   */
  authorizer?: boolean;
  /** More SCRAM-SHA-512 users, written with the admin when the storage is formatted. */
  users?: readonly { username: string; password: string }[];
}

/** KAFKA_LIBS of .cache/versions.env, written by ops/fetch.sh. */
function kafkaLibs(): string {
  const env = join(cacheDir(), 'versions.env');
  if (!existsSync(env)) throw new Error(`${env} is missing: run bash ops/fetch.sh (or bash ops/services.sh start) first`);
  const libs = versionsEnv().KAFKA_LIBS;
  if (!libs || !existsSync(libs)) throw new Error(`no Kafka libs in ${env}: run bash ops/fetch.sh`);
  return libs;
}

/** A throw-away certificate authority (RSA 2048, valid two days). */
export async function createTestCa(): Promise<TestCa> {
  const dir = mkdtempSync(join(tmpdir(), 'zads-test-ca-'));
  const caFile = join(dir, 'ca.pem');
  const keyFile = join(dir, 'ca.key');
  await run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', caFile, '-days', '2', '-subj', '/CN=ZADS test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { dir, caFile, keyFile };
}

/** A broker certificate for 127.0.0.1 and localhost signed by the CA, as a PKCS12 keystore. */
async function brokerKeystore(ca: TestCa, dir: string, password: string): Promise<string> {
  const key = join(dir, 'broker.key');
  const csr = join(dir, 'broker.csr');
  const cert = join(dir, 'broker.pem');
  const ext = join(dir, 'broker.ext');
  const p12 = join(dir, 'broker.p12');
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=127.0.0.1']);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.caFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
  await run('openssl', ['pkcs12', '-export', '-in', cert, '-inkey', key, '-certfile', ca.caFile, '-name', 'broker', '-out', p12, '-passout', `pass:${password}`]);
  return p12;
}

function serverProperties(o: { dir: string; port: number; internalPort: number; controllerPort: number; keystore: string; storePassword: string; superUser?: string }): string {
  // As ops/config/kafka-authorizer.properties, with this broker's own super users.
  const authorizer = o.superUser
    ? `authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:${o.superUser};User:ANONYMOUS
allow.everyone.if.no.acl.found=false
`
    : '';
  return `# written by test/helpers/secure-kafka.ts
${authorizer}
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${o.controllerPort}
listeners=SASL_SSL://127.0.0.1:${o.port},INTERNAL://127.0.0.1:${o.internalPort},CONTROLLER://127.0.0.1:${o.controllerPort}
advertised.listeners=SASL_SSL://127.0.0.1:${o.port},INTERNAL://127.0.0.1:${o.internalPort}
listener.security.protocol.map=SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=INTERNAL
controller.listener.names=CONTROLLER

sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=${o.keystore}
ssl.keystore.password=${o.storePassword}
ssl.key.password=${o.storePassword}
ssl.client.auth=none

log.dirs=${join(o.dir, 'data')}
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
background.threads=2
num.partitions=4
auto.create.topics.enable=false
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
`;
}

async function waitForStart(child: ChildProcess, dir: string, timeoutMs: number): Promise<void> {
  const log = join(dir, 'server.log');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(log) && readFileSync(log, 'utf8').includes('Kafka Server started')) return;
    const tail = () =>
      ['server.log', 'stdout.log']
        .map((f) => join(dir, f))
        .filter(existsSync)
        .map((f) => `---- ${f}\n${readFileSync(f, 'utf8').split('\n').slice(-30).join('\n')}`)
        .join('\n');
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the secure Kafka broker exited during start-up\n${tail()}`);
    if (Date.now() > deadline) throw new Error(`the secure Kafka broker did not start within ${timeoutMs} ms\n${tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a SASL_SSL (SCRAM-SHA-512) broker; `stop()` it in afterAll. */
export async function startSecureKafka(options: SecureKafkaOptions = {}): Promise<SecureKafka> {
  const dir = mkdtempSync(join(tmpdir(), 'zads-secure-kafka-'));
  const ownCa = options.ca === undefined;
  const ca = options.ca ?? (await createTestCa());
  const username = options.username ?? 'zads';
  const password = options.password ?? `pw${randomBytes(9).toString('hex')}`;
  const storePassword = randomBytes(12).toString('hex');
  const removeFiles = () => {
    rmSync(dir, { recursive: true, force: true });
    if (ownCa) rmSync(ca.dir, { recursive: true, force: true });
  };
  const classpath = `${kafkaLibs()}/*`;
  const properties = join(dir, 'server.properties');
  let port: number;
  let internal: number;
  try {
    const [client, internalPort, controllerPort] = [await freePort(), await freePort(), await freePort()];
    port = client!;
    mkdirSync(join(dir, 'data'));
    const keystore = await brokerKeystore(ca, dir, storePassword);
    internal = internalPort!;
    writeFileSync(properties, serverProperties({ dir, port, internalPort: internalPort!, controllerPort: controllerPort!, keystore, storePassword, superUser: options.authorizer ? username : undefined }));
    // As Kafka's own Uuid.randomUuid: an id starting with "-" would be read as an option by StorageTool.
    let clusterId = randomBytes(16).toString('base64url');
    while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
    const log4j = `-Dlog4j.configuration=file:${join(REPO_ROOT, 'ops', 'config', 'tools-log4j.properties')}`;
    const scram = [{ username, password }, ...(options.users ?? [])].flatMap((u) => ['--add-scram', `SCRAM-SHA-512=[name=${u.username},password=${u.password}]`]);
    await run(javaExecutable(), ['-Xmx256m', log4j, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties, ...scram]);
  } catch (err) {
    removeFiles();
    throw err;
  }

  const out = openSync(join(dir, 'stdout.log'), 'a');
  const child = spawnJava({
    jvm: [
      '-Xms128m', '-Xmx384m', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true',
      `-Dkafka.logs.dir=${dir}`, `-Dlog4j.configuration=file:${join(REPO_ROOT, 'ops', 'config', 'kafka-log4j.properties')}`,
    ],
    main: { classpath, className: 'kafka.Kafka' },
    args: [properties],
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const pid = child.pid!;
  // Should the test process end without afterAll (a crash), the broker goes with it.
  const killOnExit = () => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const exited = exitOf(child);
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGTERM');
      const timer = setTimeout(killOnExit, STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
      process.removeListener('exit', killOnExit);
      removeFiles();
    })();
    return stopping;
  };

  try {
    await waitForStart(child, dir, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  } catch (err) {
    await stop();
    throw err;
  }

  const brokers = [`127.0.0.1:${port}`];
  const internalBootstrap = `127.0.0.1:${internal}`;
  return {
    brokers,
    caFile: ca.caFile,
    username,
    password,
    dir,
    internalBootstrap,
    clusterConfig(overrides = {}) {
      const caFile = overrides.caFile === undefined ? ca.caFile : overrides.caFile;
      return {
        brokers,
        tls: caFile === null ? {} : { caFile },
        sasl: { mechanism: 'scram-sha-512', username: overrides.username ?? username, password: overrides.password ?? password },
      };
    },
    opsScript(script, args = [], env = {}) {
      return run('bash', [join(REPO_ROOT, 'ops', script), '--bootstrap-server', internalBootstrap, ...args], {
        env: { ...process.env, ZADS_TOOLS_HEAP: '-Xmx256m', ...env },
        timeout: 180_000,
      });
    },
    stop,
  };
}
