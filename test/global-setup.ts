/**
 * Runs once per `npm test`: starts a fresh local Kafka broker for the run unless KAFKA_BROKERS
 * names one, publishes its address in KAFKA_BROKERS for every test file, and stops what it started.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startLocalKafka, stopLocalKafka, type LocalKafkaOptions } from '../src/local-kafka/index.ts'
import { canListen, freePort } from './helpers/ports.ts'

let started: LocalKafkaOptions | undefined

export async function globalSetup(): Promise<void> {
  if (process.env.KAFKA_BROKERS !== undefined && process.env.KAFKA_BROKERS.trim() !== '') return
  const port = await freePortPair()
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-test-kafka-'))
  started = { port, dataDir, heap: '768m', onProgress: (line) => console.error(`[test broker] ${line}`) }
  const broker = await startLocalKafka(started)
  process.env.KAFKA_BROKERS = broker.bootstrap
  console.error(`[test broker] ready at ${broker.bootstrap}; logs: ${broker.logFile}`)
}

export async function globalTeardown(): Promise<void> {
  if (started === undefined) return
  await stopLocalKafka(started)
  if (started.dataDir !== undefined) await rm(started.dataDir, { recursive: true, force: true })
}

/** A port P such that P and P + 1 (the controller's) are both free on 127.0.0.1. */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort()
    if (port < 65535 && (await canListen(port + 1))) return port
  }
  throw new Error('no two consecutive free ports found on 127.0.0.1')
}
