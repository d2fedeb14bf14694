// The one thing dispatch asks of the exchange, in its own file so that
// dispatch/service.ts can import it without importing the whole exchange.
import type { Executor } from '../../platform/db/index.js';
import { queueForPeers } from './repo.js';

/**
 * For dispatchLetter, inside its transaction: one queued 'exchange' message per
 * addressee that is a peer agency (exchangeJob delivers them). Idempotent.
 */
export function queueExchange(trx: Executor, letterId: string): Promise<number> {
  return queueForPeers(trx, letterId);
}
