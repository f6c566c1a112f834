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
  },
});
