/** kafkajs's table of the broker's error codes (not part of its typed API; see producer.ts). */
declare module 'kafkajs/src/protocol/error.js' {
  const errors: {
    errorCodes: ReadonlyArray<{ type: string; code: number; retriable: boolean; message: string }>;
  };
  export default errors;
}
