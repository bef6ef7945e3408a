/**
 * The windowed aggregation benchmark: a tumbling 10 s window with count + sum + mean per key over
 * 10,000 keys, exactly-once, through a Sluice Application, against the stateless pipeline
 * (filter → apply, exactly-once) on the same input in the same run. Then the memory of state: the
 * same aggregation over as many distinct keys as events (1,000,000; quick: 200,000), all in open
 * windows, run in a child process whose peak RSS is measured against the 512 MB target.
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Application } from '../src/app/index.ts'
import { KafkaAdmin, KafkaProducer } from '../src/kafka/index.ts'
import { createLogger } from '../src/observability/logger.ts'
import { count, mean, sum } from '../src/windows/index.ts'
import { defineBenchmark } from './lib/benchmark.ts'
import { now, sendInBatches } from './lib/timing.ts'

const PARTITIONS = 6
const KEYS = 10_000
const WINDOW_MS = 10_000
/** Event time covered by the input: ten windows, so that windows close and emit while the run goes on. */
const SPAN_MS = 10 * WINDOW_MS
const RSS_TARGET_MB = 512
/** The memory run's --max-old-space-size. */
const HEAP_LIMIT_MB = 256

interface Payment {
  amount: number
  currency: string
  note: string
}

/** Whole minutes, fifteen minutes ago: round window starts, and timestamps the broker accepts. */
const BASE_TIME = Math.floor((Date.now() - 900_000) / 60_000) * 60_000

function windowed(app: Application, input: string, output: string): void {
  app
    .dataframe(app.topic<string, Payment>(input))
    .tumblingWindow(WINDOW_MS)
    .agg({ n: count(), total: sum('amount'), average: mean('amount') })
    .final()
    .toTopic(app.topic(output))
}

function stateless(app: Application, input: string, output: string): void {
  app
    .dataframe(app.topic<string, Payment>(input))
    .filter((value) => value.amount >= 10)
    .apply((value) => ({ ...value, gross: value.amount * 1.2, large: value.amount > 50 }))
    .toTopic(app.topic(output))
}

export default defineBenchmark({
  description: 'tumbling 10 s count+sum+mean over 10,000 keys, exactly-once, vs the stateless pipeline; peak RSS with 1,000,000 keys of window state',
  needsKafka: true,
  async run({ quick, kafkaBrokers: brokers, report, progress }) {
    const events = quick ? 200_000 : 1_000_000
    const admin = new KafkaAdmin({ brokers })
    const run = Date.now().toString(36)
    const input = `bench-windowed-in-${run}`
    const manyKeys = `bench-windowed-keys-${run}`
    const outputs = [`bench-windowed-stateless-${run}`, `bench-windowed-out-${run}`, `bench-windowed-keys-out-${run}`]
    const applicationIds = [`bench-windowed-stateless-${run}`, `bench-windowed-${run}`, `bench-windowed-keys-${run}`]
    await admin.createTopics([input, manyKeys, ...outputs].map((name) => ({ name, partitions: PARTITIONS })))
    const stateDir = await mkdtemp(join(tmpdir(), 'sluice-bench-windowed-'))
    try {
      progress(`producing ${events.toLocaleString('en')} payments over ${KEYS.toLocaleString('en')} keys and ${SPAN_MS / 1000} s of event time`)
      await produce(brokers, input, events, (i) => `c${i % KEYS}`, SPAN_MS)

      const statelessMs = await runApplication(brokers, applicationIds[0] as string, stateDir, events, (app) => stateless(app, input, outputs[0] as string))
      const limit = report.limit('stateless_eos_msgs_per_s', (events / statelessMs) * 1000, 'msg/s', { messages: events, partitions: PARTITIONS, guarantee: 'exactly-once' })
      progress(`stateless exactly-once: ${((events / statelessMs) * 1000).toFixed(0)} msg/s`)
      const windowedMs = await runApplication(brokers, applicationIds[1] as string, stateDir, events, (app) => windowed(app, input, outputs[1] as string))
      report.compared('windowed_eos_msgs_per_s', (events / windowedMs) * 1000, 'msg/s', limit, {
        messages: events,
        keys: KEYS,
        window_ms: WINDOW_MS,
        windows_per_key: SPAN_MS / WINDOW_MS,
        aggregations: 'count+sum+mean',
        partitions: PARTITIONS,
        guarantee: 'exactly-once',
        commit_interval_ms: 1000,
      })
      progress(`windowed exactly-once: ${((events / windowedMs) * 1000).toFixed(0)} msg/s`)

      progress(`producing ${events.toLocaleString('en')} payments with as many distinct keys, all in one window, for the memory run`)
      await produce(brokers, manyKeys, events, (i) => `key-${i}`, 0)
      const target = report.limit('rss_target_mb', RSS_TARGET_MB, 'MB', { source: 'issue 4: memory stays bounded, under 512 MB RSS' })
      // Node's default heap limit lets garbage pile up to gigabytes before a full collection; a
      // service sets a limit. Both are measured: the state itself lives in LMDB, not on the heap.
      for (const [figure, heapLimitMb] of [
        ['peak_rss_mb_with_keys_in_state', HEAP_LIMIT_MB],
        ['peak_rss_mb_with_keys_in_state_default_heap', undefined],
      ] as const) {
        const applicationId = `${applicationIds[2] as string}-${heapLimitMb ?? 'default'}`
        applicationIds.push(applicationId)
        const child = await memoryRun(brokers, applicationId, stateDir, manyKeys, outputs[2] as string, events, heapLimitMb)
        report.compared(figure, child.peakRssMb, 'MB', target, {
          keys_in_state: events,
          node_heap_limit_mb: heapLimitMb ?? 'default',
          msgs_per_s: Math.round((events / child.ms) * 1000),
          rss_at_start_mb: Math.round(child.startRssMb),
          state_files_mb: child.stateFilesMb,
          heap_at_peak_mb: child.heapAtPeakMb,
          external_at_peak_mb: child.externalAtPeakMb,
          guarantee: 'exactly-once',
        })
        progress(`${events.toLocaleString('en')} keys of window state, heap limit ${heapLimitMb ?? 'default'}: peak RSS ${child.peakRssMb.toFixed(0)} MB`)
      }
    } finally {
      const internal = (await admin.listTopics()).filter((name) => applicationIds.some((id) => name.startsWith(`${id}-`)))
      await admin.deleteTopics([input, manyKeys, ...outputs, ...internal]).catch(() => undefined)
      await admin.close()
      await rm(stateDir, { recursive: true, force: true })
    }
  },
})

/** Event i: `amount` 0–99, event time spread evenly over `spanMs`, so times only grow per partition. */
async function produce(brokers: string[], topic: string, events: number, keyOf: (i: number) => string, spanMs: number): Promise<void> {
  const producer = new KafkaProducer({ brokers })
  await sendInBatches(events, 2000, 4, async (first, size) => {
    await producer.send(
      Array.from({ length: size }, (_, index) => {
        const i = first + index
        return { topic, key: Buffer.from(keyOf(i)), value: Buffer.from(JSON.stringify({ amount: i % 100, currency: 'EUR', note: 'benchmark payment' })), timestamp: BASE_TIME + Math.floor((i * spanMs) / events) }
      }),
    )
  })
  await producer.close()
}

/** Runs a pipeline until every input was processed and the last checkpoint committed; returns the elapsed ms. */
async function runApplication(brokers: string[], applicationId: string, stateDir: string, events: number, define: (app: Application) => void): Promise<number> {
  const app = new Application({ brokers, applicationId, stateDir, logger: createLogger('warn'), handleSignals: false })
  define(app)
  const started = now()
  const running = app.run()
  let failure: unknown
  running.catch((error: unknown) => (failure = error))
  while (app.stats().processed < events && failure === undefined) await new Promise((resolve) => setTimeout(resolve, 5))
  app.stop()
  await running
  return now() - started
}

interface MemoryResult {
  peakRssMb: number
  startRssMb: number
  /** The state stores' LMDB files at the end (memory-mapped: their touched pages count in RSS). */
  stateFilesMb: number
  /** The JS heap and the memory outside it (Buffers) when RSS peaked. */
  heapAtPeakMb: number
  externalAtPeakMb: number
  ms: number
}

/** The memory run in a process of its own, so that its RSS is the application's alone. */
async function memoryRun(brokers: string[], applicationId: string, stateDir: string, input: string, output: string, events: number, heapLimitMb: number | undefined): Promise<MemoryResult> {
  const flags = heapLimitMb === undefined ? [] : [`--max-old-space-size=${heapLimitMb}`]
  const child = spawn(process.execPath, [...flags, fileURLToPath(import.meta.url)], {
    env: { ...process.env, WINDOWED_BENCH_CHILD: JSON.stringify({ brokers, applicationId, stateDir, input, output, events }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`the memory run exited with ${code}`)
  return JSON.parse(out) as MemoryResult
}

/** In the child: runs the windowed aggregation over the distinct keys, sampling RSS, and prints what it measured. */
async function memoryChild(settings: { brokers: string[]; applicationId: string; stateDir: string; input: string; output: string; events: number }): Promise<void> {
  const startRssMb = process.memoryUsage.rss() / 2 ** 20
  let peak = startRssMb
  let atPeak = process.memoryUsage()
  const sample = () => {
    const usage = process.memoryUsage()
    if (usage.rss / 2 ** 20 > peak) {
      peak = usage.rss / 2 ** 20
      atPeak = usage
    }
  }
  const sampler = setInterval(sample, 50)
  const ms = await runApplication(settings.brokers, settings.applicationId, settings.stateDir, settings.events, (app) => windowed(app, settings.input, settings.output))
  clearInterval(sampler)
  sample()
  const stateFilesMb = execFileSync('du', ['-sm', join(settings.stateDir, settings.applicationId)]).toString().split('\t')[0]
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20)
  process.stdout.write(JSON.stringify({ peakRssMb: peak, startRssMb, stateFilesMb: Number(stateFilesMb), heapAtPeakMb: mb(atPeak.heapUsed), externalAtPeakMb: mb(atPeak.external), ms }))
}

const childSettings = process.env.WINDOWED_BENCH_CHILD
if (import.meta.main && childSettings !== undefined) await memoryChild(JSON.parse(childSettings) as Parameters<typeof memoryChild>[0])
