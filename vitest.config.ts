import { defineConfig } from 'vitest/config';

// One run covers every workspace. The global setup brings up the real services (Redis, Kafka, Cassandra)
// through the services manager, applies the schema and topics, and leaves them running for the next run.
export default defineConfig({
  test: {
    globalSetup: ['./local/services/vitest-global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    teardownTimeout: 60_000,
    include: ['{kit,functions,local,infra,bench,web}/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/cdk.out/**', '**/.next/**'],
    reporters: ['default'],
    pool: 'forks',
    // scrypt at 2^17 (issue 16) costs ~0.5 s of CPU per sign-up or login, several seconds on this shared machine:
    // the suite hashes at 2^15 as before; the tests of hashing itself set 17 (password-rehash.e2e, auth-tokens).
    // The local runtimes the tests start inherit it. Never set on AWS.
    env: { PASSWORD_SCRYPT_LOG2N: '15' },
  },
});
