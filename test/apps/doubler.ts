/**
 * A small application the failure tests run as a child process, so they can kill it with SIGKILL:
 * reads numbers from INPUT, writes { n, doubled } to OUTPUT under the key it read, exactly once.
 * Settings come from the environment: KAFKA_BROKERS, APP_ID, INPUT, OUTPUT, STATE_DIR, GUARANTEE.
 */
import { Application, type ProcessingGuarantee } from '../../src/app/index.ts'

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`doubler: set ${name}`)
  return value
}

const app = new Application({
  brokers: env('KAFKA_BROKERS').split(','),
  applicationId: env('APP_ID'),
  stateDir: env('STATE_DIR'),
  processingGuarantee: (process.env.GUARANTEE ?? 'exactly-once') as ProcessingGuarantee,
  commitIntervalMs: 300,
})
const input = app.topic<string, number>(env('INPUT'))
const output = app.topic<string, { n: number; doubled: number }>(env('OUTPUT'))
app
  .dataframe(input)
  .apply((n) => ({ n, doubled: n * 2 }))
  .toTopic(output)
await app.run()
