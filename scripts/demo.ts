/**
 * `npm run demo`: the main job on its built-in default. It writes a sample Delta table of orders
 * (with delta-rs, change data feed on), starts the local Kafka broker unless KAFKA_BROKERS names
 * one, streams the table into Kafka with the Delta source (snapshot, then every commit's changes,
 * exactly once), and runs a StreamingDataFrame pipeline on that topic that prints what it does.
 * While it runs, the sample table receives a new commit every few seconds, and the demo follows.
 *
 *   npm run demo                    # until Ctrl-C
 *   npm run demo -- --seconds 30    # stop by itself
 */
import { mkdir } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Application } from '../src/app/index.ts'
import { deltaSource } from '../src/connectors/index.ts'
import { SluiceError } from '../src/errors.ts'
import { KafkaAdmin } from '../src/kafka/index.ts'
import { startLocalKafka } from '../src/local-kafka/index.ts'
import { createLogger } from '../src/observability/logger.ts'
import { deltaRsStep } from './lib/delta-writers.ts'

interface Order {
  id: number
  customer: string
  name: string
  amount: number
  updated: number
}

/** The commits the demo makes while it runs, in turn: [delta-writer step, arguments, what it does]. */
const COMMITS: Array<[string, number[], string]> = [
  ['update', [4], 'amount + 1000 for every 4th order'],
  ['append', [200, 20], '20 new orders'],
  ['delete', [9], 'delete the orders with id % 9 = 1'],
  ['merge', [210, 20], 'upsert orders 210–229 (10 updates, 10 new)'],
]

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string' } } })
  const seconds = values.seconds === undefined ? undefined : Number(values.seconds)
  const brokers = await brokersForDemo()
  const run = Date.now().toString(36)
  const table = join(process.env.SLUICE_HOME ?? join(homedir(), '.cache', 'sluice'), 'demo', run, 'orders')
  await mkdir(join(table, '..'), { recursive: true })
  console.log(`writing the sample Delta table ${table} with delta-rs (200 orders, change data feed on)`)
  await deltaRsStep(table, 'create', 200)

  const logger = createLogger('warn')
  const ordersTopic = `sluice-demo-${run}-orders`
  const bigOrdersTopic = `sluice-demo-${run}-big-orders`
  const source = deltaSource({
    table,
    topic: ordersTopic,
    partitions: 3,
    keyColumns: ['id'],
    pollIntervalMs: 1000,
    onProgress: ({ rows, totalRows }) => console.log(`snapshot: ${rows} of ${totalRows ?? '?'} rows published`),
  })

  // One application runs both: the source into the orders topic, and the pipeline on that topic.
  const app = new Application({ brokers, applicationId: `sluice-demo-${run}`, stateDir: join(table, '..', 'state'), commitIntervalMs: 500, logger })
  app.source(source)
  const orders = app.topic<string, Order>(ordersTopic)
  const bigOrders = app.topic<string, Order & { change: string }>(bigOrdersTopic, { config: { partitions: 3 } })
  app
    .dataframe(orders)
    .withColumn('change', (_, meta) => `${meta.headers.get('sluice.change_type')?.toString() ?? '?'} @v${meta.headers.get('sluice.commit_version')?.toString() ?? '?'}`)
    .filter((order) => order.amount >= 90)
    .update((order) => console.log(`pipeline: ${order.change.padEnd(24)} order ${String(order.id).padStart(3)}  ${order.customer.padEnd(4)} ${order.amount.toFixed(1).padStart(7)}  → ${bigOrdersTopic}`))
    .toTopic(bigOrders)

  const running = app.run() // until Ctrl-C (SIGINT) or SIGTERM

  let commit = 0
  const committing = setInterval(() => {
    const [step, args, what] = COMMITS[commit % COMMITS.length] as [string, number[], string]
    const offset = Math.floor(commit / COMMITS.length) * 100 // later rounds touch new ids
    commit++
    deltaRsStep(table, step, ...(step === 'append' || step === 'merge' ? [(args[0] ?? 0) + offset, args[1] ?? 0] : args)).then(
      () => console.log(`table: committed version ${commit} (${what}) — the source picks it up at its next poll`),
      (error: unknown) => console.error(`table: commit failed: ${String(error)}`),
    )
  }, 5000)
  if (seconds !== undefined) setTimeout(() => app.stop(), seconds * 1000)
  console.log(`streaming ${table} → ${ordersTopic} → pipeline → ${bigOrdersTopic}${seconds === undefined ? ' (Ctrl-C stops)' : ` for ${seconds} s`}`)
  try {
    await running
  } finally {
    clearInterval(committing)
  }
  const { sources, ...pipeline } = app.stats()
  console.log(`stopped: ${sources[source.name]?.records ?? 0} change records published exactly once; pipeline ${JSON.stringify(pipeline)}`)
  const admin = new KafkaAdmin({ brokers })
  await admin.deleteTopics([ordersTopic, bigOrdersTopic]).catch(() => undefined)
  await admin.close()
}

async function brokersForDemo(): Promise<string[]> {
  const external = process.env.KAFKA_BROKERS
  if (external !== undefined && external.trim() !== '') return external.split(',')
  const broker = await startLocalKafka({ onProgress: (line) => console.log(line) })
  console.log(`local Kafka ${broker.alreadyRunning ? 'already running' : 'started'} at ${broker.bootstrap} (stop it with \`npm run kafka -- stop\`)`)
  return [broker.bootstrap]
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof SluiceError ? `error [${error.code}]: ${error.message}` : error)
    process.exit(1)
  },
)
