/**
 * The JVM services' warm-up before a bench run. Kafka and Cassandra run on the JVM: for their first minutes
 * under load their hot paths are interpreted or compiled at a low tier, and a bench run then measures the JIT,
 * not the system (30 Nov: the first run after `npm run services -- up` carried 86 msg/s at 22 ms of CPU per
 * message; the same code, once the services were warm, 180 msg/s at 9.6 ms). So the bench reads how long each
 * has been running and, when one started recently, first drives the same kinds of requests the app makes (Kafka
 * produce with acks=all and fetch, CQL prepared writes at LOCAL_QUORUM) for a while, through the raw baselines'
 * loops, outside every measured window.
 */
import { readFileSync } from 'node:fs';
import { defaultAddresses } from '@chat/local/services';
import { cqlInserts, kafkaRoundTrip } from './baselines/raw.ts';
import { pidListeningOn, readStat } from './procs.ts';
import { log } from './progress.ts';

/** A service younger than this gets the warm-up by default. */
export const YOUNG_SERVICE_SEC = 15 * 60;
/** The default warm-up of young services. */
export const DEFAULT_WARMUP_SEC = 60;

/** How long the process listening on `port` has been running, in seconds; null when none (or not Linux). */
export function listenerAgeSeconds(port: number): number | null {
  const pid = pidListeningOn(port);
  const stat = pid === null ? null : readStat(pid);
  if (!stat) return null;
  try {
    const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    return Math.max(0, uptime - stat.startSeconds);
  } catch {
    return null;
  }
}

export interface ServicesWarmup {
  /** Seconds each JVM service had been running when the bench started (null: not found on this host). */
  readonly agesSec: { readonly kafka: number | null; readonly cassandra: number | null };
  /** Seconds of warm-up load driven (0: none). */
  readonly warmupSec: number;
  readonly reason: string;
}

/** Seconds to warm: `requested` when given (0 = never), else the default when a JVM service is young. */
export function warmupSeconds(
  ages: ServicesWarmup['agesSec'],
  requested: number | undefined,
): { seconds: number; reason: string } {
  if (requested !== undefined)
    return {
      seconds: requested,
      reason: requested > 0 ? '--services-warmup' : 'skipped (--services-warmup 0)',
    };
  const young = (Object.entries(ages) as [string, number | null][]).filter(
    ([, age]) => age !== null && age < YOUNG_SERVICE_SEC,
  );
  if (young.length === 0) return { seconds: 0, reason: 'services already warm (up ≥ 15 min)' };
  return {
    seconds: DEFAULT_WARMUP_SEC,
    reason: `${young.map(([n, a]) => `${n} up ${Math.round((a ?? 0) / 60)} min`).join(', ')}: JIT still warming`,
  };
}

/** Reads the services' ages and drives the warm-up load when due. */
export async function warmServices(requested: number | undefined): Promise<ServicesWarmup> {
  const t = defaultAddresses();
  const kafkaPort = Number(t.kafkaBrokers[0]?.split(':').at(-1));
  const agesSec = {
    kafka: Number.isFinite(kafkaPort) ? listenerAgeSeconds(kafkaPort) : null,
    cassandra: listenerAgeSeconds(t.cqlPort),
  };
  const { seconds, reason } = warmupSeconds(agesSec, requested);
  if (seconds > 0) {
    log(`services: warming Kafka and Cassandra for ${seconds} s (${reason}; --services-warmup 0 skips)`);
    const budgetMs = seconds * 1000;
    // Bounded by time; the counts only cap the loops (one round trip takes ≥ 0.3 ms, so they never bind).
    const cap = Math.ceil(budgetMs * 4);
    const results = await Promise.all([
      kafkaRoundTrip(t, cap, budgetMs),
      // Plain inserts, then LWTs, half the time each (the app makes both).
      cqlInserts(t, cap, budgetMs / 2),
    ]);
    for (const r of results.flat()) if (!r.ok) log(`services: warm-up ${r.name} failed: ${r.error}`);
  } else log(`services: no warm-up (${reason})`);
  return { agesSec, warmupSec: seconds, reason };
}
