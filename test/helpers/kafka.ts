/**
 * What every integration test needs from the harness: the broker address and unique names.
 * `test/global-setup.ts` starts a broker once per run (unless KAFKA_BROKERS is given) and
 * exports its address in KAFKA_BROKERS before any test file starts.
 */
import { randomBytes } from 'node:crypto'

/** The bootstrap brokers of the broker under test, e.g. `['127.0.0.1:19092']`. */
export function testBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS
  if (brokers === undefined || brokers.trim() === '') {
    throw new Error('KAFKA_BROKERS is not set: run the tests with `npm test` (it starts a broker) or set KAFKA_BROKERS=host:port')
  }
  return brokers.split(',').map((broker) => broker.trim()).filter((broker) => broker.length > 0)
}

/** A topic, group or transactional id no other test (or earlier run) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
}
