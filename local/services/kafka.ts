/**
 * Kafka: Apache Kafka, KRaft single node (broker + controller in one JVM), from its Maven Central artifacts.
 * Version: KAFKA_VERSION (default below). kafkajs 2.2.4 was checked against it: produce, consume with a group,
 * admin createTopics/describeConfigs/fetchOffsets/deleteTopics, idempotent producer (docs/adr/0001-...).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { resolveClasspath } from './maven.ts';
import { ensureDir, findJava17, runLogged, spawnDetached } from './support.ts';
import {
  type Addresses,
  type Context,
  confDir,
  type Driver,
  dataDir,
  type Health,
  logFile,
} from './types.ts';

export const DEFAULT_KAFKA_VERSION = '4.4.0';
const kafkaVersion = () => process.env.KAFKA_VERSION || DEFAULT_KAFKA_VERSION;

function brokerHostPort(a: Addresses) {
  const first = a.kafkaBrokers[0] ?? '127.0.0.1:9092';
  const i = first.lastIndexOf(':');
  const host = i > 0 ? first.slice(0, i) : first;
  return { host: host === 'localhost' ? '127.0.0.1' : host, port: i > 0 ? Number(first.slice(i + 1)) : 9092 };
}

export function requireJava17(): string {
  const home = findJava17();
  if (!home)
    throw new Error(
      'A Java 17 runtime is needed for Kafka and Cassandra (Cassandra 5.0 runs on Java 11 or 17 only). Install ' +
        'it (Debian: `sudo apt-get install openjdk-17-jre-headless`) or set CHAT_JAVA_HOME to a JDK 17.',
    );
  return home;
}

/** A KRaft cluster id: 16 random bytes, base64url without padding (what `kafka-storage random-uuid` prints). */
const clusterId = () => randomBytes(16).toString('base64url');

function serverProperties(ctx: Context): string {
  const { host, port } = brokerHostPort(ctx.addresses);
  const controller = ctx.addresses.kafkaControllerPort;
  return [
    '# Written by local/services/kafka.ts on every start; edit that file, not this one.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${host}:${controller}`,
    `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controller}`,
    `advertised.listeners=PLAINTEXT://${host}:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${path.join(dataDir(ctx, 'kafka'), 'logs')}`,
    // Topics are created by ensureTopics from the contracts, never by a producer's typo.
    'auto.create.topics.enable=false',
    'num.partitions=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=4',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Consumers in tests join at once instead of waiting 3 s for more members.
    'group.initial.rebalance.delay.ms=0',
    'num.network.threads=2',
    'num.io.threads=4',
    'log.retention.hours=168',
    'log.segment.bytes=67108864',
    'delete.topic.enable=true',
    '',
  ].join('\n');
}

function log4j2Properties(ctx: Context): string {
  return [
    'status = warn',
    'appender.file.type = File',
    'appender.file.name = FILE',
    `appender.file.fileName = ${logFile(ctx, 'kafka')}`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = info',
    'rootLogger.appenderRef.file.ref = FILE',
    'logger.kafka.name = kafka',
    'logger.kafka.level = info',
    'logger.state.name = state.change.logger',
    'logger.state.level = warn',
    'logger.request.name = kafka.request.logger',
    'logger.request.level = warn',
    '',
  ].join('\n');
}

let classpath: string | undefined;

export const kafkaDriver: Driver = {
  name: 'kafka',
  composeService: 'redpanda',
  processMarker: 'kafka.Kafka',
  startTimeoutMs: 120_000,
  address: (a) => {
    const { host, port } = brokerHostPort(a);
    return `${host}:${port}`;
  },
  hostPort: brokerHostPort,

  async probe(a): Promise<Health> {
    const kafka = new Kafka({
      clientId: 'chat-services-probe',
      brokers: [...a.kafkaBrokers],
      connectionTimeout: 1500,
      requestTimeout: 3000,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return {
        ok: true,
        detail: `metadata ok, ${cluster.brokers.length} broker(s), controller ${cluster.controller}`,
      };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    } finally {
      await admin.disconnect().catch(() => {});
    }
  },

  async prepare(ctx) {
    const java = requireJava17();
    const version = kafkaVersion();
    const lib = await resolveClasspath(ctx, 'kafka', version, java);
    classpath = `${lib}/*`;
    return version;
  },

  async start(ctx) {
    if (!classpath) throw new Error('kafka: prepare() first');
    const javaHome = requireJava17();
    const java = path.join(javaHome, 'bin', 'java');
    const conf = ensureDir(confDir(ctx, 'kafka'));
    const props = path.join(conf, 'server.properties');
    const log4j = path.join(conf, 'log4j2.properties');
    await writeFile(props, serverProperties(ctx));
    await writeFile(log4j, log4j2Properties(ctx));
    const logs = ensureDir(path.join(dataDir(ctx, 'kafka'), 'logs'));
    const log = logFile(ctx, 'kafka');
    const common = ['-cp', classpath, `-Dlog4j2.configurationFile=file:${log4j}`, '-Djava.awt.headless=true'];

    if (!existsSync(path.join(logs, 'meta.properties'))) {
      ctx.report.begin('kafka', 'formatting KRaft storage');
      const code = await runLogged(
        java,
        [
          '-Xmx256m',
          '-XX:TieredStopAtLevel=1',
          ...common,
          'kafka.tools.StorageTool',
          'format',
          '-t',
          clusterId(),
          '-c',
          props,
        ],
        log,
      );
      if (code !== 0) throw new Error(`kafka storage format failed (exit ${code}); see ${log}`);
    }
    const jvm = [
      `-Xmx${ctx.kafkaHeap}`,
      '-Xms256m',
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-XX:+ExitOnOutOfMemoryError',
      '-Dchat.local.service=kafka',
    ];
    return spawnDetached(java, [...jvm, ...common, 'kafka.Kafka', props], log, { cwd: conf });
  },
};
