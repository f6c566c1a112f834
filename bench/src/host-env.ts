/**
 * The environment the bench's runtime hands its functions (runtime-host.ts), beside what the local runtime sets
 * itself (dummy AWS credentials, the management endpoint, its deployment's names).
 */
import { topics } from '@chat/functions/contracts';
import { serviceEnv } from '@chat/local/services';

/**
 * What the benchmark raises (README, configuration): thousands of users signing up from one IP, up to 10,000
 * connections over 1,000 users, and scrypt at N = 2^15 instead of 2^17 for the sign-ups (the benchmark measures
 * messages, not password hashing; a bench user who ever logged in elsewhere would be rehashed at 2^17). A local
 * override only: CDK never sets these. The process environment wins.
 */
const BENCH_ENV = {
  RATE_LIMITS:
    process.env.RATE_LIMITS ??
    [
      'signupPerIp=1000000/60',
      'loginPerIp=1000000/60',
      'loginFailuresPerIp=1000000/60',
      'wsTicketPerUser=1000000/60',
      'groupCreatePerUser=1000000/60',
      'memberAddsPerUser=1000000/60',
      'httpPerUser=1000000/60',
      'connectionsPerUser=100000',
    ].join(','),
  PASSWORD_SCRYPT_LOG2N: process.env.PASSWORD_SCRYPT_LOG2N ?? '15',
};

/**
 * The services' addresses and credentials (as `npm start` passes them: without the S3 server's credentials the
 * functions sign S3 requests with the runtime's dummy AWS identity, which the S3 server refuses), the run's own
 * topics (bench/src/isolation.ts: a fresh deployment takes no names from the process environment) and
 * `BENCH_ENV`.
 */
export function benchRuntimeEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return {
    ...serviceEnv(),
    ...Object.fromEntries(
      [topics.messages.envVar, topics.deadLetter.envVar].flatMap((name) => {
        const value = env[name];
        return value ? [[name, value]] : [];
      }),
    ),
    ...BENCH_ENV,
  };
}
