/**
 * What a benchmark in `bench/` is: a module whose default export is {@link defineBenchmark}'s
 * result. `bench/run.ts` loads it by name, provides a Kafka broker when it asks for one, and hands
 * it a reporter that prints one JSON line per figure on stdout.
 */
import type { FigureReporter } from './figures.ts'

export interface BenchmarkContext {
  /** `--quick`: a smaller run that finishes, broker start included, in under 60 s. */
  quick: boolean
  /** Bootstrap addresses of the run's broker; empty when the benchmark does not need Kafka. */
  kafkaBrokers: string[]
  /** Prints the figures, one JSON line each, on stdout. */
  report: FigureReporter
  /** One line of progress or diagnostics, on stderr (stdout carries only figures). */
  progress: (line: string) => void
}

export interface Benchmark {
  /** One line for the list of benchmarks. */
  description: string
  /** Whether `run.ts` must provide a broker (KAFKA_BROKERS, else a fresh local one). */
  needsKafka: boolean
  run: (context: BenchmarkContext) => Promise<void>
}

export function defineBenchmark(benchmark: Benchmark): Benchmark {
  return benchmark
}

export function isBenchmark(value: unknown): value is Benchmark {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Partial<Benchmark>
  return typeof candidate.description === 'string' && typeof candidate.needsKafka === 'boolean' && typeof candidate.run === 'function'
}
