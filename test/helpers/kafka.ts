/**
 * What every integration test needs from the harness: the broker address and unique names.
 * `test/global-setup.ts` starts a broker once per run (unless KAFKA_BROKERS is given) and
 * exports its address in KAFKA_BROKERS before any test file starts.
 */
import { randomBytes } from 'node:crypto'
import { KafkaConsumer, type ConsumedMessageWithSource, type ConsumerOptions } from '../../src/kafka/index.ts'

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

/**
 * Reads `topic` from the beginning with a fresh group until `count` messages arrived, then waits
 * `settleMs` more to catch any extra message (a duplicate or something that should be invisible).
 */
export async function readTopic(
  topic: string,
  count: number,
  options: Partial<ConsumerOptions> & { settleMs?: number; timeoutMs?: number } = {},
): Promise<ConsumedMessageWithSource[]> {
  const consumer = new KafkaConsumer({ brokers: testBrokers(), groupId: uniqueName('reader'), topics: [topic], ...options })
  const received: ConsumedMessageWithSource[] = []
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  let settleUntil = count === 0 ? Date.now() + (options.settleMs ?? 3000) : Number.POSITIVE_INFINITY
  const timer = setInterval(() => {
    if (Date.now() > deadline || Date.now() > settleUntil) void consumer.close()
  }, 50)
  try {
    for await (const message of consumer.messages()) {
      received.push(message)
      if (received.length === count) settleUntil = Date.now() + (options.settleMs ?? 500)
    }
  } finally {
    clearInterval(timer)
    await consumer.close()
  }
  return received
}
