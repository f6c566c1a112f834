/**
 * Test fixture: the names of driver errors as a bundled (minified) function sees them, and whether the
 * outage classifier recognizes them.
 */
import cassandra from 'cassandra-driver';
import { isOutage } from '../../../functions/src/adapters/outage.ts';

export const handler = async () => {
  const errors = [
    new cassandra.errors.NoHostAvailableError({}),
    new cassandra.errors.OperationTimedOutError('timed out'),
    new cassandra.errors.BusyConnectionError('127.0.0.1:9042', 2048, 1),
  ];
  return errors.map((e) => ({ name: e.name, outage: isOutage(e) }));
};
