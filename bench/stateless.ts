/**
 * The stateless pipeline benchmark: JSON in → filter → apply → JSON out, through a Sluice
 * Application with exactly-once and with at-least-once checkpoints, against the limit of the same
 * broker in the same run: the raw client consuming the input and producing every message back out
 * unchanged (no parsing, no transactions). Then end-to-end latency at a fixed input rate.
 */
import { compatibilityPartitioner, Consumer, FetchIsolationLevels, MessagesStreamModes, ProduceAcks, Producer } from '@platformatic/kafka'
import { Application, type ProcessingGuarantee } from '../src/app/index.ts'
import { KafkaAdmin, KafkaConsumer, KafkaProducer } from '../src/kafka/index.ts'
import { createLogger } from '../src/observability/logger.ts'
import { defineBenchmark } from './lib/benchmark.ts'
import type { FigureReporter } from './lib/figures.ts'
import { now, sendInBatches } from './lib/timing.ts'

const PARTITIONS = 6
const CUSTOMERS = ['ada', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus', 'hal']

interface Order {
  id: number
  customer: string
  amount: number
  currency: string
  sentAt: number
  note: string
}

function order(id: number, sentAt = 0): Order {
  return { id, customer: CUSTOMERS[id % CUSTOMERS.length] as string, amount: id % 100, currency: 'EUR', sentAt, note: 'benchmark order with a short note' }
}

/** The pipeline under test: drops one order in ten, adds two columns. */
function pipeline(app: Application, input: string, output: string): void {
  app
    .dataframe(app.topic<string, Order>(input))
    .filter((value) => value.amount >= 10)
    .apply((value) => ({ ...value, gross: value.amount * 1.2, large: value.amount > 50 }))
    .toTopic(app.topic(output))
}

const passing = (count: number) => count - Math.ceil(count / 10)

export default defineBenchmark({
  description: 'JSON filter → apply → JSON through an Application, exactly-once and at-least-once, vs raw consume+produce; p50/p99 latency at 10,000 msg/s',
  needsKafka: true,
  async run({ quick, kafkaBrokers: brokers, report, progress }) {
    const count = quick ? 200_000 : 1_000_000
    const admin = new KafkaAdmin({ brokers })
    const run = Date.now().toString(36)
    const input = `bench-stateless-in-${run}`
    const topics = [input, `bench-stateless-raw-${run}`, `bench-stateless-eos-${run}`, `bench-stateless-alo-${run}`]
    await admin.createTopics(topics.map((name) => ({ name, partitions: PARTITIONS })))
    try {
      progress(`producing ${count.toLocaleString('en')} JSON orders to ${PARTITIONS} partitions`)
      const producer = new KafkaProducer({ brokers })
      await sendInBatches(count, 2000, 4, (first, size) =>
        producer.send(Array.from({ length: size }, (_, index) => ({ topic: input, key: Buffer.from(`o${first + index}`), value: Buffer.from(JSON.stringify(order(first + index))) }))),
      )
      await producer.close()

      const rawMs = await rawConsumeProduce(brokers, input, topics[1] as string, count)
      const limit = report.limit('raw_consume_produce_msgs_per_s', (count / rawMs) * 1000, 'msg/s', { messages: count, partitions: PARTITIONS })
      progress(`raw consume+produce: ${((count / rawMs) * 1000).toFixed(0)} msg/s`)
      for (const [guarantee, output] of [['exactly-once', topics[2]], ['at-least-once', topics[3]]] as const) {
        const ms = await applicationRun(brokers, input, output as string, count, guarantee)
        const figure = guarantee === 'exactly-once' ? 'eos_msgs_per_s' : 'alo_msgs_per_s'
        report.compared(figure, (count / ms) * 1000, 'msg/s', limit, { messages: count, partitions: PARTITIONS, guarantee, commit_interval_ms: 1000 })
        progress(`${guarantee}: ${((count / ms) * 1000).toFixed(0)} msg/s`)
      }
      await latency(brokers, admin, run, quick ? 5 : 15, report, progress)
    } finally {
      await admin.deleteTopics(topics).catch(() => undefined)
      await admin.close()
    }
  },
})

/** The limit: every input message read and written back out by the raw client, no processing. */
async function rawConsumeProduce(brokers: string[], input: string, output: string, count: number): Promise<number> {
  const producer = new Producer({ clientId: 'sluice-bench-raw', bootstrapBrokers: brokers, idempotent: true, acks: ProduceAcks.ALL, partitioner: compatibilityPartitioner })
  const consumer = new Consumer({
    clientId: 'sluice-bench-raw',
    bootstrapBrokers: brokers,
    groupId: `bench-raw-${Date.now()}`,
    autocommit: false,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    maxBytes: 50 * 1024 * 1024,
    maxBytesPerPartition: 1024 * 1024,
    maxWaitTime: 100,
  })
  const started = now()
  const stream = await consumer.consume({ topics: [input], mode: MessagesStreamModes.EARLIEST, autocommit: false })
  const done = Promise.withResolvers<void>()
  let received = 0
  let pending: Array<{ topic: string; key: Buffer; value: Buffer }> = []
  let sending: Promise<unknown> = Promise.resolve()
  const flush = () => {
    const batch = pending
    pending = []
    sending = sending.then(() => producer.send({ messages: batch }))
  }
  stream.on('error', (error: Error) => done.reject(error))
  stream.on('data', (message) => {
    pending.push({ topic: output, key: message.key, value: message.value })
    if (pending.length >= 2000) flush()
    if (++received === count) done.resolve()
  })
  await done.promise
  flush()
  await sending
  const elapsed = now() - started
  await consumer.close(true)
  await producer.close()
  return elapsed
}

/** Runs the pipeline until every input was processed and the last checkpoint committed. */
async function applicationRun(brokers: string[], input: string, output: string, count: number, guarantee: ProcessingGuarantee): Promise<number> {
  const app = new Application({
    brokers,
    applicationId: `bench-stateless-${guarantee}-${Date.now()}`,
    processingGuarantee: guarantee,
    stateDir: `${process.env.TMPDIR ?? '/tmp'}/sluice-bench-state`,
    logger: createLogger('warn'),
    handleSignals: false,
  })
  pipeline(app, input, output)
  const started = now()
  const running = app.run()
  let failure: unknown
  running.catch((error: unknown) => (failure = error))
  while (app.stats().processed < count && failure === undefined) await new Promise((resolve) => setTimeout(resolve, 5))
  app.stop()
  await running
  const elapsed = now() - started
  const written = await endOffsets(brokers, output)
  if (written < passing(count)) throw new Error(`${guarantee}: ${written} records in ${output}, expected ${passing(count)}`)
  return elapsed
}

/** Records (and transaction markers) in a topic: the sum of its partitions' end offsets. */
async function endOffsets(brokers: string[], topic: string): Promise<number> {
  const admin = new KafkaAdmin({ brokers })
  try {
    const lag = await admin.consumerLag(`bench-probe-${Date.now()}`, [topic])
    return Number(lag.reduce((sum, entry) => sum + entry.endOffset, 0n))
  } finally {
    await admin.close()
  }
}

/**
 * End-to-end latency at 10,000 msg/s: from the input's send to the output's arrival at a
 * read_committed consumer, exactly-once with a 100 ms commit interval. The first second is warm-up.
 */
async function latency(
  brokers: string[],
  admin: KafkaAdmin,
  run: string,
  seconds: number,
  report: FigureReporter,
  progress: (line: string) => void,
): Promise<void> {
  const rate = 10_000
  const commitIntervalMs = 100
  const input = `bench-latency-in-${run}`
  const output = `bench-latency-out-${run}`
  await admin.createTopics([input, output].map((name) => ({ name, partitions: PARTITIONS })))
  const app = new Application({
    brokers,
    applicationId: `bench-latency-${run}`,
    commitIntervalMs,
    stateDir: `${process.env.TMPDIR ?? '/tmp'}/sluice-bench-state`,
    logger: createLogger('warn'),
    handleSignals: false,
  })
  pipeline(app, input, output)
  const running = app.run()
  const latencies: number[] = []
  let warmUpUntil = Number.POSITIVE_INFINITY
  const consumer = new KafkaConsumer({ brokers, groupId: `bench-latency-reader-${run}`, topics: [output], autoOffsetReset: 'latest', maxWaitMs: 10 })
  const reading = (async () => {
    for await (const batch of consumer.batches()) {
      const arrived = Date.now()
      for (const message of batch) {
        const { sentAt } = JSON.parse(message.value?.toString() ?? '{}') as Order
        if (sentAt >= warmUpUntil) latencies.push(arrived - sentAt)
      }
    }
  })()
  await new Promise((resolve) => setTimeout(resolve, 2000)) // both joined their groups
  const producer = new KafkaProducer({ brokers, lingerMs: 0 })
  const started = Date.now()
  warmUpUntil = started + 1000
  let sent = 0
  progress(`latency: ${rate} msg/s for ${seconds} s, exactly-once, commit interval ${commitIntervalMs} ms`)
  while (Date.now() - started < seconds * 1000) {
    const due = Math.floor(((Date.now() - started) / 1000) * rate)
    if (due > sent) {
      const sentAt = Date.now()
      // The filter drops amount < 10: send only amounts that pass, so every input is measured.
      for (let id = sent; id < due; id++) producer.enqueue({ topic: input, key: Buffer.from(`l${id}`), value: Buffer.from(JSON.stringify({ ...order(id, sentAt), amount: 10 + (id % 90) })) })
      sent = due
    }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  await producer.flush()
  await new Promise((resolve) => setTimeout(resolve, commitIntervalMs * 5 + 1000))
  await producer.close()
  await consumer.close()
  await reading
  app.stop()
  await running
  const measured = latencies.sort((a, b) => a - b)
  const percentile = (p: number) => measured[Math.min(measured.length - 1, Math.floor(measured.length * p))] ?? Number.NaN
  const setup = { rate_msgs_per_s: rate, seconds, guarantee: 'exactly-once', commit_interval_ms: commitIntervalMs, measured: measured.length, sent, warmup_s: 1 }
  progress(`latency: ${measured.length} outputs measured; p50 ${percentile(0.5)} ms, p99 ${percentile(0.99)} ms`)
  // The target: p99 under the commit interval + 50 ms; ratios below 1 meet it.
  const target = report.limit('latency_target_ms', commitIntervalMs + 50, 'ms', setup)
  report.compared('latency_p50_ms', percentile(0.5), 'ms', target, setup)
  report.compared('latency_p99_ms', percentile(0.99), 'ms', target, setup)
  await admin.deleteTopics([input, output]).catch(() => undefined)
}
