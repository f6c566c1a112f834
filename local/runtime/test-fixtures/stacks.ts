/**
 * Test fixture: stack traces as a bundled function formats them with source maps on (`--enable-source-maps`):
 * one thrown by our code, one thrown inside a library (cassandra-driver).
 */
import cassandra from 'cassandra-driver';

export const handler = async () => {
  const ours = new Error('ours').stack ?? '';
  let library = '';
  try {
    cassandra.types.Uuid.fromString('not-a-uuid');
  } catch (e) {
    library = (e as Error).stack ?? '';
  }
  return { ours, library };
};
