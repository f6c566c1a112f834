import { Logger } from '@aws-lambda-powertools/logger';
import { config } from './config.ts';

/**
 * The one logger: structured JSON (Powertools). Handlers `appendKeys({ connectionId, conversationId })` per
 * invocation and `resetKeys()` at the end. Never log tokens, tickets, passwords or message bodies.
 */
export const logger = new Logger({
  serviceName: 'chat',
  logLevel: config.logLevel() as 'INFO',
});
