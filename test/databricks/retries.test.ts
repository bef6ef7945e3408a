import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { inspect } from 'node:util'
import { DatabricksClient } from '../../src/databricks/index.ts'
import { SluiceError } from '../../src/errors.ts'
import type { DatabricksEmulator } from '../emulators/databricks/index.ts'
import { CLIENT_ID, CLIENT_SECRET, memoryLogger, PAT, patClient, startEmulator, WAREHOUSE } from './fixtures.ts'

let emulator: DatabricksEmulator
const TABLE = 'main.sales.orders'
const TABLES_PATH = '/api/2.1/unity-catalog/tables/'

before(async () => {
  emulator = await startEmulator()
  emulator.addTable({ catalog: 'main', schema: 'sales', name: 'orders', storageLocation: 's3://bucket/orders', columns: [{ name: 'id', typeName: 'LONG', typeText: 'bigint' }] })
})
after(() => emulator.close())

function attempts(start: number, prefix: string) {
  return emulator.requests.slice(start).filter((request) => request.path.startsWith(prefix))
}

test('429 with Retry-After is retried after the time the server asks for', async () => {
  const logger = memoryLogger()
  const client = await patClient(emulator, { logger })
  emulator.injectFault({ path: TABLES_PATH, status: 429, retryAfter: '1', times: 2 })
  const start = emulator.requests.length
  const table = await client.getTable(TABLE)
  assert.equal(table.name, 'orders')
  const tries = attempts(start, TABLES_PATH)
  assert.deepEqual(tries.map((request) => request.status), [429, 429, 200])
  assert.ok(tries[1]!.at - tries[0]!.at >= 980, `waited ${tries[1]!.at - tries[0]!.at} ms`)
  assert.ok(tries[2]!.at - tries[1]!.at >= 980, `waited ${tries[2]!.at - tries[1]!.at} ms`)
  assert.equal(logger.lines.length, 2)
  assert.match(logger.lines[0]!, /GET \/api\/2\.1\/unity-catalog\/tables\/main\.sales\.orders: HTTP 429; retry 1 of 6 in 1000 ms \(Retry-After\)/)
  assert.ok(logger.lines.every((line) => !line.includes(PAT)))
})

test('503 without Retry-After and a reset connection are retried with backoff', async () => {
  const client = await patClient(emulator)
  emulator.injectFault({ path: TABLES_PATH, status: 503, times: 2 })
  emulator.injectFault({ path: '/api/2.0/sql/statements', method: 'POST', reset: true })
  const start = emulator.requests.length
  assert.equal((await client.getTable(TABLE)).tableId.length, 36)
  assert.deepEqual(attempts(start, TABLES_PATH).map((request) => request.status), [503, 503, 200])
  const result = await client.executeStatement('SELECT 42 AS answer', { warehouseId: WAREHOUSE })
  for await (const row of result) assert.equal(row.answer, 42n)
  assert.equal(attempts(start, '/api/2.0/sql/statements').length, 2)
})

test('when retries run out the error is DATABRICKS_API, retriable, with the status and the server message', async () => {
  const client = await patClient(emulator, { maxRetries: 2 })
  emulator.injectFault({ path: TABLES_PATH, status: 503, times: 3 })
  const start = emulator.requests.length
  await assert.rejects(client.getTable(TABLE), (error: unknown) => {
    assert.ok(error instanceof SluiceError)
    assert.equal(error.code, 'DATABRICKS_API')
    assert.equal(error.retriable, true)
    assert.match(error.message, /HTTP 503 TEMPORARILY_UNAVAILABLE: Emulated fault/)
    return true
  })
  assert.equal(attempts(start, TABLES_PATH).length, 3)
})

test('a Retry-After longer than the call time limit fails fast with DATABRICKS_TIMEOUT', async () => {
  const client = await patClient(emulator, { callTimeoutMs: 1000 })
  emulator.injectFault({ path: TABLES_PATH, status: 429, retryAfter: '30' })
  const started = Date.now()
  await assert.rejects(client.getTable(TABLE), (error: unknown) =>
    error instanceof SluiceError && error.code === 'DATABRICKS_TIMEOUT' && /still failing \(HTTP 429\) when the call time limit of 1000 ms ran out/.test(error.message))
  assert.ok(Date.now() - started < 900)
})

test('a stalled read is retried after the request time limit; a stalled submission is not resent', async () => {
  const client = await patClient(emulator, { requestTimeoutMs: 300 })
  emulator.injectFault({ path: TABLES_PATH, stallMs: 1500 })
  const start = emulator.requests.length
  assert.equal((await client.getTable(TABLE)).name, 'orders')
  assert.equal(attempts(start, TABLES_PATH).length, 2)

  emulator.injectFault({ path: '/api/2.0/sql/statements', method: 'POST', stallMs: 1500 })
  const submitStart = emulator.requests.length
  await assert.rejects(client.executeStatement('SELECT 1', { warehouseId: WAREHOUSE }), (error: unknown) =>
    error instanceof SluiceError && error.code === 'DATABRICKS_TIMEOUT' && /POST \/api\/2\.0\/sql\/statements timed out: no complete answer within the request time limit of 300 ms/.test(error.message))
  assert.equal(attempts(submitStart, '/api/2.0/sql/statements').length, 1)
})

test('secrets stay out of retry logs and errors, including OAuth tokens and presigned URLs', async () => {
  const logger = memoryLogger()
  const client = await DatabricksClient.connect({
    env: { DATABRICKS_HOST: emulator.host, DATABRICKS_CLIENT_ID: CLIENT_ID, DATABRICKS_CLIENT_SECRET: CLIENT_SECRET, DATABRICKS_CONFIG_FILE: '/nonexistent' },
    logger, retryBaseDelayMs: 10, maxRetries: 1,
  })
  emulator.injectFault({ path: '/oidc/v1/token', status: 503 })
  emulator.injectFault({ path: '/external-results/', status: 503, times: 4 })
  emulator.db.exec('CREATE TABLE IF NOT EXISTS numbers (n BIGINT)')
  emulator.db.exec('INSERT INTO numbers VALUES (1), (2)')
  const result = await client.executeStatement('SELECT n FROM numbers', { warehouseId: WAREHOUSE, disposition: 'EXTERNAL_LINKS' })
  let failure: unknown
  try {
    for await (const row of result) void row
  } catch (error) {
    failure = error
  }
  assert.ok(failure instanceof SluiceError && failure.code === 'DATABRICKS_API', String(failure))
  assert.match(failure.message, /Downloading chunk 0 of statement \w+ from its presigned link failed with HTTP 503/)
  const downloads = emulator.requests.filter((request) => request.path.startsWith('/external-results/'))
  assert.ok(downloads.length >= 4)
  const texts = [...logger.lines, failure.message, inspect(failure), inspect(client)].join('\n')
  const secrets = [CLIENT_SECRET, ...emulator.issuedTokens, 'X-Amz-Signature', ...downloads.map((request) => request.path.split('/').at(-1)!)]
  for (const secret of secrets) assert.ok(!texts.includes(secret), `"${secret}" leaked into: ${texts}`)
  assert.ok(logger.lines.some((line) => line.includes('POST /oidc/v1/token')))
})
