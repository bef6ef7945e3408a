/**
 * `npm run bench -- NAME [--quick]`: runs the benchmark `bench/NAME.ts`. Figures go to stdout,
 * one JSON line each; progress and diagnostics go to stderr. A benchmark that needs Kafka gets
 * KAFKA_BROKERS when it is set, else a fresh local broker that is stopped and deleted afterwards.
 * An unknown or missing NAME lists the benchmarks there are.
 */
import { readdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { isBenchmark, type Benchmark } from './lib/benchmark.ts'
import { FigureReporter } from './lib/figures.ts'
import { provideBenchKafka } from './lib/kafka-broker.ts'
import { cleanupOnExitSignals, runCleanup } from './lib/lifecycle.ts'
import { now } from './lib/timing.ts'

const benchDir = dirname(fileURLToPath(import.meta.url))
const progress = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

async function benchmarkNames(): Promise<string[]> {
  const entries = await readdir(benchDir, { withFileTypes: true })
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && entry.name !== 'run.ts')
    .map((entry) => entry.name.slice(0, -'.ts'.length))
    .sort()
}

async function loadBenchmark(name: string): Promise<Benchmark> {
  const module = (await import(pathToFileURL(join(benchDir, `${name}.ts`)).href)) as { default?: unknown }
  if (!isBenchmark(module.default)) throw new Error(`bench/${name}.ts does not export a benchmark (export default defineBenchmark({...}))`)
  return module.default
}

async function listBenchmarks(): Promise<void> {
  progress('usage: npm run bench -- NAME [--quick]')
  progress('benchmarks:')
  for (const name of await benchmarkNames()) {
    const benchmark = await loadBenchmark(name).catch(() => undefined)
    progress(`  ${name.padEnd(18)}${benchmark?.description ?? '(does not load)'}`)
  }
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { quick: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } })
  const name = positionals[0]
  if (values.help === true || name === undefined || positionals.length > 1) {
    await listBenchmarks()
    return values.help === true ? 0 : 2
  }
  if (!(await benchmarkNames()).includes(name)) {
    progress(`no benchmark named "${name}"`)
    await listBenchmarks()
    return 2
  }

  cleanupOnExitSignals(progress)
  const started = now()
  try {
    const benchmark = await loadBenchmark(name)
    const quick = values.quick === true
    progress(`bench ${name}${quick ? ' (quick)' : ''}: ${benchmark.description}`)
    const kafka = benchmark.needsKafka ? await provideBenchKafka(progress) : undefined
    await benchmark.run({ quick, kafkaBrokers: kafka?.brokers ?? [], report: new FigureReporter(name), progress })
    return 0
  } finally {
    await runCleanup(progress)
    progress(`bench ${name} finished in ${((now() - started) / 1000).toFixed(1)} s`)
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    progress(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    process.exit(1)
  },
)
