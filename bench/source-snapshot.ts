/**
 * source-snapshot: the Delta source publishing a table's snapshot into Kafka, exactly once, against
 * the lower of its two limits measured in the same run on the same table and broker: the Delta
 * scan alone (Sluice's kernel, rows as objects) and raw produce alone (@platformatic/kafka,
 * idempotent, acks=all, messages of the same size). Then the latency from a commit landing in a
 * table to its records being readable (read_committed) in Kafka, at a 1 s poll interval.
 *
 * The table is bench/lib/delta-table.ts's: 5,000,000 rows (`--quick`: 500,000) of 10 mixed columns.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compatibilityPartitioner, ProduceAcks, Producer } from '@platformatic/kafka'
import { deltaSource, SourceRunner } from '../src/connectors/index.ts'
import { DeltaTable } from '../src/delta/index.ts'
import { KafkaAdmin, KafkaConsumer } from '../src/kafka/index.ts'
import { createLogger } from '../src/observability/logger.ts'
import { deltaRsStep } from '../scripts/lib/delta-writers.ts'
import { defineBenchmark } from './lib/benchmark.ts'
import { mixedColumnTable } from './lib/delta-table.ts'
import type { FigureReporter } from './lib/figures.ts'
import { now, sendInBatches } from './lib/timing.ts'

const PARTITIONS = 6

export default defineBenchmark({
  description: 'Delta source: snapshot into Kafka exactly once vs min(Delta scan, raw produce); commit-to-Kafka latency at a 1 s poll',
  needsKafka: true,
  async run({ quick, kafkaBrokers: brokers, report, progress }) {
    const rows = quick ? 500_000 : 5_000_000
    const { path } = await mixedColumnTable(rows, progress)
    const admin = new KafkaAdmin({ brokers })
    const run = Date.now().toString(36)
    const topics = [`bench-source-${run}`, `bench-source-raw-${run}`]
    try {
      progress('limit 1: the Delta scan alone')
      const scanStarted = now()
      let scanned = 0
      for await (const batch of (await (await DeltaTable.open(path)).snapshot()).scan().batches()) scanned += batch.length
      const scanRate = (scanned / (now() - scanStarted)) * 1000

      progress('the Delta source: snapshot into Kafka, exactly once (JSON values)')
      const sourceMs = await snapshotIntoKafka(brokers, path, topics[0] as string, rows, 'json')
      const published = await endOffsetTotal(admin, topics[0] as string)
      if (published < rows) throw new Error(`the source published ${published} of ${rows} rows`)
      const bytesPerRecord = await averageValueBytes(brokers, topics[0] as string)

      progress(`limit 2: raw produce of ${rows.toLocaleString('en')} messages of ${bytesPerRecord} bytes`)
      await admin.createTopics([{ name: topics[1] as string, partitions: PARTITIONS }])
      const produceMs = await rawProduce(brokers, topics[1] as string, rows, bytesPerRecord)
      const produceRate = (rows / produceMs) * 1000

      const setup = { rows, columns: 10, partitions: PARTITIONS, guarantee: 'exactly-once', value_bytes: bytesPerRecord }
      report.limit('delta_scan_rows_per_s', scanRate, 'rows/s', setup)
      report.limit('raw_produce_msgs_per_s', produceRate, 'msg/s', setup)
      const limit = report.limit('min_scan_produce_per_s', Math.min(scanRate, produceRate), 'rows/s', setup)
      const json = report.compared('snapshot_to_kafka_rows_per_s', (rows / sourceMs) * 1000, 'rows/s', limit, setup)
      // The same with values in the schema formats derived from the table (no registry: the bare encoding costs the same).
      for (const format of ['avro', 'protobuf'] as const) {
        const topic = `bench-source-${format}-${run}`
        topics.push(topic)
        progress(`the Delta source with ${format} values`)
        const ms = await snapshotIntoKafka(brokers, path, topic, rows, format)
        report.compared(`snapshot_to_kafka_${format}_rows_per_s`, (rows / ms) * 1000, 'rows/s', json, { ...setup, value_format: format })
      }

      await commitLatency(brokers, admin, run, quick ? 3 : 6, report, progress)
    } finally {
      await admin.deleteTopics(topics).catch(() => undefined)
      await admin.close()
    }
  },
})

/** Runs a Delta source over the table's snapshot until every row is committed; the elapsed ms. */
async function snapshotIntoKafka(brokers: string[], path: string, topic: string, rows: number, valueFormat: 'json' | 'avro' | 'protobuf'): Promise<number> {
  const source = deltaSource({ table: path, topic, partitions: PARTITIONS, keyColumns: ['id'], valueFormat })
  const runner = new SourceRunner({ brokers, applicationId: `bench-${topic}`, logger: createLogger('warn') })
  const started = now()
  const running = runner.run([source])
  let failure: unknown
  running.catch((error: unknown) => (failure = error))
  while (runner.stats(source.name).records < rows && failure === undefined) await new Promise((resolve) => setTimeout(resolve, 20))
  runner.stop()
  await running
  return now() - started
}

async function endOffsetTotal(admin: KafkaAdmin, topic: string): Promise<number> {
  const lag = await admin.consumerLag(`bench-probe-${Date.now()}`, [topic])
  return Number(lag.reduce((sum, entry) => sum + entry.endOffset, 0n))
}

/** The mean value size of the first messages of a topic, so that raw produce writes the same bytes. */
async function averageValueBytes(brokers: string[], topic: string): Promise<number> {
  const consumer = new KafkaConsumer({ brokers, groupId: `bench-sample-${Date.now()}`, topics: [topic] })
  try {
    for await (const batch of consumer.batches()) {
      if (batch.length === 0) continue
      return Math.round(batch.reduce((sum, message) => sum + (message.value?.length ?? 0), 0) / batch.length)
    }
    return 0
  } finally {
    await consumer.close()
  }
}

async function rawProduce(brokers: string[], topic: string, count: number, valueBytes: number): Promise<number> {
  const producer = new Producer({ clientId: 'sluice-bench-raw', bootstrapBrokers: brokers, idempotent: true, acks: ProduceAcks.ALL, partitioner: compatibilityPartitioner })
  const value = Buffer.alloc(valueBytes, 'x')
  const started = now()
  await sendInBatches(count, 2000, 4, async (first, size) => {
    await producer.send({ messages: Array.from({ length: size }, (_, index) => ({ topic, key: Buffer.from(String(first + index)), value })) })
  })
  const elapsed = now() - started
  await producer.close()
  return elapsed
}

/**
 * Appends `commits` commits of 1,000 rows, 3 s apart, to a CDF table the source follows with a 1 s
 * poll; for each, the time from the commit's timestamp to its first and last record arriving at a
 * read_committed consumer.
 */
async function commitLatency(brokers: string[], admin: KafkaAdmin, run: string, commits: number, report: FigureReporter, progress: (line: string) => void): Promise<void> {
  const table = join(await mkdtemp(join(tmpdir(), 'sluice-bench-latency-')), 'orders')
  await deltaRsStep(table, 'create', 1000)
  const topic = `bench-source-latency-${run}`
  const runner = new SourceRunner({ brokers, applicationId: `bench-source-latency-${run}`, logger: createLogger('warn') })
  const source = deltaSource({ table, topic, partitions: PARTITIONS, keyColumns: ['id'], pollIntervalMs: 1000, snapshot: false })
  const running = runner.run([source])
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const consumer = new KafkaConsumer({ brokers, groupId: `bench-latency-${run}`, topics: [topic], maxWaitMs: 10 })
  const arrivals = new Map<number, { first: number; last: number; count: number; committedAt: number }>()
  const reading = (async () => {
    for await (const batch of consumer.batches()) {
      const arrived = Date.now()
      for (const message of batch) {
        const version = Number(message.headers.get('sluice.commit_version')?.toString())
        const committedAt = Date.parse(message.headers.get('sluice.commit_timestamp')?.toString() ?? '')
        const entry = arrivals.get(version) ?? { first: arrived, last: arrived, count: 0, committedAt }
        entry.last = arrived
        entry.count++
        arrivals.set(version, entry)
      }
    }
  })()
  progress(`latency: ${commits} commits of 1,000 rows, 3 s apart, source polling every 1 s`)
  for (let commit = 0; commit < commits; commit++) {
    await deltaRsStep(table, 'append', 1000 + commit * 1000, 1000)
    await new Promise((resolve) => setTimeout(resolve, 3000))
  }
  await new Promise((resolve) => setTimeout(resolve, 2000))
  await consumer.close()
  await reading
  runner.stop()
  await running
  await admin.deleteTopics([topic]).catch(() => undefined)
  const complete = [...arrivals.values()].filter((entry) => entry.count === 1000)
  if (complete.length !== commits) throw new Error(`${complete.length} of ${commits} commits arrived whole`)
  const firsts = complete.map((entry) => entry.first - entry.committedAt).sort((a, b) => a - b)
  const lasts = complete.map((entry) => entry.last - entry.committedAt).sort((a, b) => a - b)
  const median = (values: number[]) => values[Math.floor(values.length / 2)] ?? Number.NaN
  const setup = { commits, rows_per_commit: 1000, poll_interval_ms: 1000, guarantee: 'exactly-once' }
  // A commit waits up to one poll interval to be seen: the interval is the figure to compare with.
  const poll = report.limit('poll_interval_ms', 1000, 'ms', setup)
  report.compared('commit_to_kafka_first_record_p50_ms', median(firsts), 'ms', poll, setup)
  report.compared('commit_to_kafka_last_record_p50_ms', median(lasts), 'ms', poll, setup)
  report.compared('commit_to_kafka_last_record_max_ms', lasts[lasts.length - 1] ?? Number.NaN, 'ms', poll, setup)
}
