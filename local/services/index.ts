/**
 * Programmatic API of the local services manager (Redis, Kafka, Cassandra, S3). See README.md "Local services".
 */
export {
  type Addresses,
  applySchema,
  type DownResult,
  defaultAddresses,
  dockerEngineAvailable,
  ensureServices,
  type ManagerOptions,
  type SchemaResult,
  SERVICE_NAMES,
  type ServiceMode,
  type ServiceName,
  type ServiceStatus,
  serviceEnv,
  serviceLogFile,
  servicesDown,
  servicesStatus,
  servicesUp,
  type UpResult,
} from './manager.ts';
export { consoleReporter, memoryReporter } from './reporter.ts';
