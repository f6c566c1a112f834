/**
 * CQL: Apache Cassandra 5.0 from its Maven Central artifacts, run with Java 17, our own cassandra.yaml (single
 * node, one token, no JMX port, data under the state folder) and the JDK 17 module options that Cassandra ships
 * in conf/jvm17-server.options. Health = a CQL query through cassandra-driver.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import cassandra from 'cassandra-driver';
import { requireJava17 } from './kafka.ts';
import { resolveClasspath } from './maven.ts';
import { ensureDir, JVM_TIMER_SLACK_NS, spawnDetached } from './support.ts';
import {
  type Addresses,
  type Context,
  confDir,
  type Driver,
  dataDir,
  type Health,
  logFile,
} from './types.ts';

export const DEFAULT_CASSANDRA_VERSION = '5.0.9';
const cassandraVersion = () => process.env.CASSANDRA_VERSION || DEFAULT_CASSANDRA_VERSION;

function cqlHostPort(a: Addresses) {
  const host = a.cqlContactPoints[0] ?? '127.0.0.1';
  return { host: host === 'localhost' ? '127.0.0.1' : host, port: a.cqlPort };
}

/** Java 17 options from Cassandra 5.0's conf/jvm17-server.options and jvm-server.options. */
const JVM17_OPTIONS = [
  '-XX:+UseG1GC',
  '-XX:+ParallelRefProcEnabled',
  '-XX:MaxTenuringThreshold=1',
  '-XX:G1HeapRegionSize=16m',
  '-XX:G1RSetUpdatingPauseTimePercent=5',
  '-XX:MaxGCPauseMillis=300',
  '-XX:InitiatingHeapOccupancyPercent=70',
  '-Djdk.attach.allowAttachSelf=true',
  '--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED',
  '--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED',
  '--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED',
  '--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED',
  '--add-exports=java.sql/java.sql=ALL-UNNAMED',
  '--add-exports=java.base/java.lang.ref=ALL-UNNAMED',
  '--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED',
  '--add-exports=jdk.attach/sun.tools.attach=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.module=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.math=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.module=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED',
  '--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.reflect=ALL-UNNAMED',
  '--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED',
  '--add-opens=java.base/java.lang=ALL-UNNAMED',
  '--add-opens=java.base/java.util=ALL-UNNAMED',
  '-Dio.netty.tryReflectionSetAccessible=true',
  '-Dio.netty.allocator.useCacheForAllThreads=true',
  '-Dio.netty.allocator.maxOrder=11',
  // from jvm-server.options
  '-ea',
  '-XX:+UseThreadPriorities',
  '-Xss256k',
  '-XX:+UseTLAB',
  '-XX:+ResizeTLAB',
  '-XX:+PerfDisableSharedMem',
  '-Djava.net.preferIPv4Stack=true',
  '-XX:+ExitOnOutOfMemoryError',
];

function cassandraYaml(ctx: Context): string {
  const { host, port } = cqlHostPort(ctx.addresses);
  const data = dataDir(ctx, 'cassandra');
  const storage = ctx.addresses.cqlStoragePort;
  return `# Written by local/services/cassandra.ts on every start; edit that file, not this one.
cluster_name: chat-local
num_tokens: 1
initial_token: 0
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
# SimpleSnitch names the data center "datacenter1" (CQL_LOCAL_DC's default).
endpoint_snitch: SimpleSnitch
listen_address: ${host}
rpc_address: ${host}
storage_port: ${storage}
native_transport_port: ${port}
start_native_transport: true
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "${host}:${storage}"
data_file_directories:
  - ${path.join(data, 'data')}
commitlog_directory: ${path.join(data, 'commitlog')}
saved_caches_directory: ${path.join(data, 'saved_caches')}
hints_directory: ${path.join(data, 'hints')}
cdc_raw_directory: ${path.join(data, 'cdc_raw')}
commitlog_sync: periodic
commitlog_sync_period: 10000ms
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
role_manager: CassandraRoleManager
network_authorizer: AllowAllNetworkAuthorizer
# A fresh single dev node: no need to stay readable by 4.x.
storage_compatibility_mode: NONE
# Tests create and drop things often: no snapshots on DROP/TRUNCATE, small caches.
auto_snapshot: false
snapshot_on_duplicate_row_detection: false
concurrent_compactors: 1
key_cache_size: 16MiB
counter_cache_size: 8MiB
memtable_heap_space: 128MiB
memtable_offheap_space: 128MiB
disk_access_mode: mmap_index_only
# LWTs (username claims) and schema changes from tests must not time out on a busy 2-core box.
write_request_timeout: 5000ms
read_request_timeout: 10000ms
cas_contention_timeout: 5000ms
request_timeout: 20000ms
# Cassandra 5 features this project may use (SAI is not on Keyspaces: keyspaces-check.ts rejects indexes).
materialized_views_enabled: false
sasi_indexes_enabled: false
user_defined_functions_enabled: false
`;
}

function logbackXml(ctx: Context): string {
  return `<configuration scan="false">
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>${logFile(ctx, 'cassandra')}</file>
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <logger name="org.apache.cassandra" level="INFO"/>
  <logger name="com.datastax" level="WARN"/>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
`;
}

let classpath: string | undefined;

export const cassandraDriver: Driver = {
  name: 'cassandra',
  composeService: 'scylla',
  processMarker: 'org.apache.cassandra.service.CassandraDaemon',
  startTimeoutMs: 240_000,
  address: (a) => {
    const { host, port } = cqlHostPort(a);
    return `${host}:${port}`;
  },
  hostPort: cqlHostPort,

  async probe(a): Promise<Health> {
    const client = new cassandra.Client({
      contactPoints: a.cqlContactPoints.map((h) => `${h}:${a.cqlPort}`),
      localDataCenter: a.cqlLocalDc,
      socketOptions: { connectTimeout: 2000, readTimeout: 5000 },
      pooling: { warmup: false },
    });
    try {
      await client.connect();
      const rs = await client.execute('SELECT release_version, data_center FROM system.local');
      const row = rs.first();
      return {
        ok: true,
        detail: `CQL ok, release ${row?.get('release_version')}, dc ${row?.get('data_center')}`,
      };
    } catch (err) {
      return { ok: false, detail: (err as Error).message.split('\n')[0] ?? 'error' };
    } finally {
      await client.shutdown().catch(() => {});
    }
  },

  async prepare(ctx) {
    const java = requireJava17();
    const version = cassandraVersion();
    const lib = await resolveClasspath(ctx, 'cassandra', version, java);
    classpath = `${lib}/*`;
    return version;
  },

  async start(ctx) {
    if (!classpath) throw new Error('cassandra: prepare() first');
    const java = path.join(requireJava17(), 'bin', 'java');
    const conf = ensureDir(confDir(ctx, 'cassandra'));
    const data = ensureDir(dataDir(ctx, 'cassandra'));
    for (const d of ['data', 'commitlog', 'saved_caches', 'hints', 'cdc_raw']) ensureDir(path.join(data, d));
    const yaml = path.join(conf, 'cassandra.yaml');
    const logback = path.join(conf, 'logback.xml');
    await writeFile(yaml, cassandraYaml(ctx));
    await writeFile(logback, logbackXml(ctx));
    const heap = ctx.cassandraHeap;
    const args = [
      `-Xms${heap}`,
      `-Xmx${heap}`,
      ...JVM17_OPTIONS,
      '-Dcassandra-foreground=yes',
      `-Dcassandra.config=file://${yaml}`,
      `-Dcassandra.storagedir=${data}`,
      `-Dcassandra.logdir=${path.dirname(logFile(ctx, 'cassandra'))}`,
      `-Dlogback.configurationFile=file://${logback}`,
      // Fast single-node start: no waiting for a gossip ring that has one member.
      '-Dcassandra.skip_wait_for_gossip_to_settle=0',
      '-Dcassandra.ring_delay_ms=100',
      '-Dcassandra.join_ring=true',
      '-Dcassandra.superuser_setup_delay_ms=0',
      '-Dcassandra.migration_task_wait_in_seconds=0',
      '-Dchat.local.service=cassandra',
      '-cp',
      classpath,
      'org.apache.cassandra.service.CassandraDaemon',
    ];
    // its executors' idle workers spin in short timed parks: a larger timer slack (support.ts) halves its CPU
    return spawnDetached(java, args, logFile(ctx, 'cassandra'), {
      cwd: conf,
      timerSlackNs: JVM_TIMER_SLACK_NS,
    });
  },
};
