/**
 * The Delta source as a process of its own, for the failure tests to kill: streams TABLE's snapshot
 * and change feed into TOPIC (key: id) until SIGTERM. Settings: KAFKA_BROKERS, APP_ID, TABLE, TOPIC.
 */
import { deltaSource, SourceRunner } from '../../src/connectors/index.ts'

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`delta-source: set ${name}`)
  return value
}

const runner = new SourceRunner({ brokers: env('KAFKA_BROKERS').split(','), applicationId: env('APP_ID'), commitIntervalMs: 200, commitEvery: 500 })
process.once('SIGTERM', () => runner.stop())
await runner.run([deltaSource({ table: env('TABLE'), topic: env('TOPIC'), partitions: 3, startVersion: 0, keyColumns: ['id'], pollIntervalMs: 100 })])
