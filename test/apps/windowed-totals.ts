/**
 * A windowed application the failure tests run as a child process, so they can kill it with
 * SIGKILL: per key and tumbling window of WINDOW_MS, the sum of `amount` and the count of records
 * from INPUT, emitted once per window when it closes, to OUTPUT, exactly once.
 * Settings come from the environment: KAFKA_BROKERS, APP_ID, INPUT, OUTPUT, STATE_DIR, WINDOW_MS.
 */
import { Application } from '../../src/app/index.ts'
import type { WindowResult } from '../../src/dataframe/index.ts'
import { count, sum } from '../../src/windows/index.ts'

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`windowed-totals: set ${name}`)
  return value
}

const app = new Application({
  brokers: env('KAFKA_BROKERS').split(','),
  applicationId: env('APP_ID'),
  stateDir: env('STATE_DIR'),
  commitIntervalMs: 300,
})
const input = app.topic<string, { amount: number }>(env('INPUT'))
const output = app.topic<string, WindowResult<string, { total: number; n: number }>>(env('OUTPUT'))
app
  .dataframe(input)
  .tumblingWindow(Number(env('WINDOW_MS')))
  .agg({ total: sum('amount'), n: count() })
  .final()
  .toTopic(output)
await app.run()
