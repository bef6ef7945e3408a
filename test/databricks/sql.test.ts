import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { SluiceError } from '../../src/errors.ts'
import type { Row } from '../../src/databricks/index.ts'
import type { DatabricksEmulator } from '../emulators/databricks/index.ts'
import { createOrders, expectedOrder, PAT, patClient, startEmulator, WAREHOUSE } from './fixtures.ts'

const ROWS = 3500
let emulator: DatabricksEmulator

before(async () => {
  emulator = await startEmulator({ rowsPerChunk: 1000 })
  createOrders(emulator.db, ROWS)
})
after(() => emulator.close())

const ORDERS_SQL = 'SELECT id, qty, small, price, ratio, weight, ok, day, at, name, payload, tags FROM orders ORDER BY rowid'

function requestsSince(start: number, pattern: RegExp) {
  return emulator.requests.slice(start).filter((request) => pattern.test(request.path))
}

async function collect(rows: AsyncIterable<Row>): Promise<Row[]> {
  const all: Row[] = []
  for await (const row of rows) all.push(row)
  return all
}

function assertOrders(rows: Row[]): void {
  assert.equal(rows.length, ROWS)
  rows.forEach((row, i) => assert.deepEqual({ ...row }, { ...expectedOrder(i) }, `row ${i}`))
}

test('INLINE JSON_ARRAY: a multi-chunk result arrives in order, every column typed by the manifest', async () => {
  const client = await patClient(emulator)
  const start = emulator.requests.length
  const result = await client.executeStatement(ORDERS_SQL, { warehouseId: WAREHOUSE, catalog: 'main', schema: 'sales' })
  assert.equal(result.format, 'JSON_ARRAY')
  assert.equal(result.totalRowCount, ROWS)
  assert.equal(result.totalChunkCount, 4)
  assert.deepEqual(result.columns.map((column) => column.typeName),
    ['LONG', 'INT', 'SHORT', 'DECIMAL', 'DOUBLE', 'FLOAT', 'BOOLEAN', 'DATE', 'TIMESTAMP', 'STRING', 'BINARY', 'ARRAY'])
  const rows = await collect(result)
  assertOrders(rows)
  assert.equal(typeof rows[0]!.id, 'bigint')
  assert.equal(rows[0]!.id, 9007199254740992n) // past Number.MAX_SAFE_INTEGER, still exact
  assert.equal(rows[7]!.price, '-2.59')
  // Chunk 0 came with the statement; chunks 1–3 by index.
  assert.deepEqual(requestsSince(start, /\/result\/chunks\//).map((request) => request.path.split('/').at(-1)), ['1', '2', '3'])
})

test('EXTERNAL_LINKS JSON_ARRAY: chunks are downloaded from presigned links without the Authorization header', async () => {
  const client = await patClient(emulator)
  const start = emulator.requests.length
  const result = await client.executeStatement(ORDERS_SQL, { warehouseId: WAREHOUSE, disposition: 'EXTERNAL_LINKS' })
  assertOrders(await collect(result))
  const downloads = requestsSince(start, /^\/external-results\//)
  assert.equal(downloads.length, 4)
  for (const download of downloads) {
    assert.equal(download.authorization, undefined)
    assert.equal(download.status, 200)
  }
})

test('EXTERNAL_LINKS ARROW_STREAM: Arrow record batches chunk by chunk, and the same typed rows as JSON', async () => {
  const client = await patClient(emulator)
  const result = await client.executeStatement(ORDERS_SQL, { warehouseId: WAREHOUSE, format: 'ARROW_STREAM' })
  assert.equal(result.format, 'ARROW_STREAM')
  let batches = 0
  let total = 0
  for await (const batch of result.recordBatches()) {
    batches++
    total += batch.numRows
    assert.equal(String(batch.schema.fields.find((field) => field.name === 'price')!.type), 'Decimal[12e+2]')
    assert.equal(String(batch.schema.fields.find((field) => field.name === 'id')!.type), 'Int64')
  }
  assert.equal(batches, 4)
  assert.equal(total, ROWS)
  assertOrders(await collect(result))
})

test('reading is chunk by chunk: stopping early fetches at most one chunk ahead', async () => {
  const client = await patClient(emulator)
  const start = emulator.requests.length
  const result = await client.executeStatement(ORDERS_SQL, { warehouseId: WAREHOUSE, disposition: 'EXTERNAL_LINKS' })
  let seen = 0
  for await (const row of result) {
    assert.deepEqual({ ...row }, { ...expectedOrder(seen) })
    if (++seen === 10) break
  }
  await new Promise((resolve) => setTimeout(resolve, 100))
  assert.ok(requestsSince(start, /^\/external-results\//).length <= 2)
  assert.ok(requestsSince(start, /\/result\/chunks\//).length <= 1)
})

test('an expired external link is renewed through the chunk endpoint', async () => {
  const client = await patClient(emulator)
  const result = await client.executeStatement(ORDERS_SQL, { warehouseId: WAREHOUSE, format: 'ARROW_STREAM' })
  const start = emulator.requests.length
  emulator.expireLinks()
  assertOrders(await collect(result))
  // The first link was refused as expired, a new one was asked for chunk 0, and it worked.
  const downloads = requestsSince(start, /^\/external-results\//)
  assert.equal(downloads[0]!.status, 403)
  assert.deepEqual(requestsSince(start, /\/result\/chunks\//).map((request) => request.path.split('/').at(-1)).sort(), ['0', '1', '2', '3'])
})

test('named parameters are sent typed and bound', async () => {
  const client = await patClient(emulator)
  const result = await client.executeStatement('SELECT id, name FROM orders WHERE qty < :max AND name LIKE :pattern ORDER BY rowid', {
    warehouseId: WAREHOUSE,
    parameters: [{ name: 'max', value: -970, type: 'INT' }, { name: 'pattern', value: 'order-1%' }],
  })
  const rows = await collect(result)
  // qty = 3i - 1000 < -970 ⇔ i < 10; names starting "order-1" among those: i = 1.
  assert.deepEqual(rows, [{ id: 1n, name: expectedOrder(1).name }])
})

test('a FAILED statement rejects with DATABRICKS_SQL carrying the SQL state and message', async () => {
  const client = await patClient(emulator)
  await assert.rejects(client.executeStatement('SELECT * FROM no_such_orders', { warehouseId: WAREHOUSE }), (error: unknown) => {
    assert.ok(error instanceof SluiceError)
    assert.equal(error.code, 'DATABRICKS_SQL')
    assert.match(error.message, /failed \[SQLSTATE 42P01\] \(BAD_REQUEST\): \[TABLE_OR_VIEW_NOT_FOUND\] no such table: no_such_orders/)
    assert.match(error.message, /SQL: SELECT \* FROM no_such_orders/)
    assert.match(error.fix, /Fix the SQL/)
    return true
  })
})

test('a slow statement is polled until it SUCCEEDS (wait_timeout 0s)', async () => {
  emulator.setStatementDelay(400)
  try {
    const client = await patClient(emulator)
    const start = emulator.requests.length
    const result = await client.executeStatement('SELECT count(*) AS n FROM orders', { warehouseId: WAREHOUSE, waitTimeout: 0 })
    assert.deepEqual(await collect(result), [{ n: BigInt(ROWS) }])
    assert.ok(requestsSince(start, /^\/api\/2\.0\/sql\/statements\/[^/]+$/).length >= 2, 'polled with GET')
  } finally {
    emulator.setStatementDelay(0)
  }
})

test('aborting the signal cancels the statement on the warehouse', async () => {
  emulator.setStatementDelay(10_000)
  try {
    const client = await patClient(emulator)
    const start = emulator.requests.length
    const controller = new AbortController()
    setTimeout(() => controller.abort(new Error('user stopped')), 300)
    await assert.rejects(client.executeStatement('SELECT * FROM orders', { warehouseId: WAREHOUSE, waitTimeout: 0, signal: controller.signal }), /user stopped/)
    const cancel = requestsSince(start, /\/cancel$/)
    assert.equal(cancel.length, 1)
    assert.equal(emulator.statementState(cancel[0]!.path.split('/')[5]!), 'CANCELED')
  } finally {
    emulator.setStatementDelay(0)
  }
})

test('timeoutMs cancels a statement that runs too long and says so', async () => {
  emulator.setStatementDelay(10_000)
  try {
    const client = await patClient(emulator)
    const start = emulator.requests.length
    const started = Date.now()
    await assert.rejects(client.executeStatement('SELECT 1', { warehouseId: WAREHOUSE, waitTimeout: 0, timeoutMs: 500 }), (error: unknown) => {
      assert.ok(error instanceof SluiceError && error.code === 'DATABRICKS_TIMEOUT')
      assert.match(error.message, /still (PENDING|RUNNING) after 500 ms, so Sluice canceled it/)
      return true
    })
    assert.ok(Date.now() - started >= 500)
    const cancel = requestsSince(start, /\/cancel$/)
    assert.equal(emulator.statementState(cancel[0]!.path.split('/')[5]!), 'CANCELED')
  } finally {
    emulator.setStatementDelay(0)
  }
})

test('on_wait_timeout CANCEL: the server cancels after wait_timeout and the error says why', async () => {
  emulator.setStatementDelay(8000)
  try {
    const client = await patClient(emulator)
    const started = Date.now()
    await assert.rejects(client.executeStatement('SELECT 1', { warehouseId: WAREHOUSE, waitTimeout: 5, onWaitTimeout: 'CANCEL' }),
      (error: unknown) => error instanceof SluiceError && error.code === 'DATABRICKS_SQL' && /was canceled \(by on_wait_timeout=CANCEL/.test(error.message))
    assert.ok(Date.now() - started >= 4900)
  } finally {
    emulator.setStatementDelay(0)
  }
})

test('options the API would refuse are refused before any request, naming the option', async () => {
  const client = await patClient(emulator)
  await assert.rejects(client.executeStatement('SELECT 1', { warehouseId: WAREHOUSE, format: 'ARROW_STREAM', disposition: 'INLINE' }), /ARROW_STREAM cannot be combined with disposition INLINE/)
  await assert.rejects(client.executeStatement('SELECT 1', { warehouseId: WAREHOUSE, waitTimeout: 3 }), /waitTimeout is 3/)
  await assert.rejects(client.executeStatement('SELECT 1', { warehouseId: 'nope' }), (error: unknown) => error instanceof SluiceError && error.code === 'DATABRICKS_API' && /Warehouse nope does not exist/.test(error.message))
})

test('the emulator holds to the contract: its presigned links refuse a request that carries an Authorization header', async () => {
  const submitted = await fetch(`${emulator.host}/api/2.0/sql/statements`, {
    method: 'POST',
    headers: { authorization: `Bearer ${PAT}`, 'content-type': 'application/json' },
    body: JSON.stringify({ statement: 'SELECT 1 AS one', warehouse_id: WAREHOUSE, disposition: 'EXTERNAL_LINKS', wait_timeout: '10s' }),
  })
  const body = (await submitted.json()) as { status: { state: string }; result: { external_links: Array<{ external_link: string }> } }
  assert.equal(body.status.state, 'SUCCEEDED')
  const link = body.result.external_links[0]!.external_link
  const withHeader = await fetch(link, { headers: { authorization: `Bearer ${PAT}` } })
  assert.equal(withHeader.status, 400)
  assert.match(await withHeader.text(), /Only one auth mechanism allowed/)
  const plain = await fetch(link)
  assert.equal(plain.status, 200)
  assert.deepEqual(await plain.json(), [['1']])
})
