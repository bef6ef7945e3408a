/**
 * The broker a benchmark run measures against. KAFKA_BROKERS set: that one. Otherwise a fresh
 * local Apache Kafka on port 49092 (controller 49093) with its data in a temporary folder, stopped
 * and deleted when the run ends, whichever way it ends (see lifecycle.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startLocalKafka, stopLocalKafka, type LocalKafkaOptions } from '../../src/local-kafka/index.ts'
import { onCleanup } from './lifecycle.ts'
import { now } from './timing.ts'

export const BENCH_KAFKA_PORT = 49092

export interface BenchKafka {
  brokers: string[]
  /** True when this run started the broker (and will stop it). */
  local: boolean
  /** Where the local broker logs, for diagnostics. */
  logFile?: string
}

export async function provideBenchKafka(progress: (line: string) => void): Promise<BenchKafka> {
  const external = process.env.KAFKA_BROKERS?.trim()
  if (external !== undefined && external !== '') {
    const brokers = external.split(',').map((address) => address.trim()).filter((address) => address !== '')
    progress(`using KAFKA_BROKERS=${brokers.join(',')} (not starting a local broker)`)
    return { brokers, local: false }
  }

  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-bench-kafka-'))
  const options: LocalKafkaOptions = {
    port: BENCH_KAFKA_PORT,
    dataDir,
    fresh: true,
    onProgress: (line) => progress(`[broker] ${line}`),
  }
  // Registered before starting, so that an interrupted start still stops the JVM and deletes the folder.
  onCleanup(async () => {
    const stopped = await stopLocalKafka(options)
    await rm(dataDir, { recursive: true, force: true })
    progress(`[broker] ${stopped ? 'stopped; ' : ''}removed ${dataDir}`)
  })
  const started = now()
  const broker = await startLocalKafka(options)
  progress(`[broker] ready at ${broker.bootstrap} in ${((now() - started) / 1000).toFixed(1)} s (logs: ${broker.logFile})`)
  return { brokers: [broker.bootstrap], local: true, logFile: broker.logFile }
}
