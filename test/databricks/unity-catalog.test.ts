import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { inspect } from 'node:util'
import type { TemporaryTableCredentials } from '../../src/databricks/index.ts'
import { SluiceError } from '../../src/errors.ts'
import type { DatabricksEmulator } from '../emulators/databricks/index.ts'
import { patClient, startEmulator } from './fixtures.ts'

let emulator: DatabricksEmulator
const ids: Record<string, string> = {}

before(async () => {
  emulator = await startEmulator({ credentialLifetimeMs: 3_600_000 })
  const columns = [
    { name: 'id', typeName: 'LONG', typeText: 'bigint', nullable: false },
    { name: 'amount', typeName: 'DECIMAL', typeText: 'decimal(12,2)' },
    { name: 'day', typeName: 'DATE', typeText: 'date', partitionIndex: 0 },
  ]
  ids.aws = emulator.addTable({ catalog: 'main', schema: 'sales', name: 'orders', storageLocation: 's3://lake-bucket/sales/orders', columns })
  ids.azure = emulator.addTable({ catalog: 'main', schema: 'sales', name: 'returns', storageLocation: 'abfss://lake@account.dfs.core.windows.net/sales/returns', columns, tableType: 'MANAGED' })
  ids.gcp = emulator.addTable({ catalog: 'main', schema: 'sales', name: 'refunds', storageLocation: 'gs://lake-bucket/sales/refunds', columns })
  ids.locked = emulator.addTable({ catalog: 'main', schema: 'hr', name: 'salaries', storageLocation: 's3://lake-bucket/hr/salaries', columns, externalUseSchema: false })
})
after(() => emulator.close())

test('a three-part name resolves to the table id, storage location, format and columns', async () => {
  const client = await patClient(emulator)
  const table = await client.getTable('main.sales.orders')
  assert.deepEqual(
    { ...table, columns: undefined, properties: undefined },
    { fullName: 'main.sales.orders', catalogName: 'main', schemaName: 'sales', name: 'orders', tableId: ids.aws, tableType: 'EXTERNAL', dataSourceFormat: 'DELTA', storageLocation: 's3://lake-bucket/sales/orders', columns: undefined, properties: undefined },
  )
  assert.deepEqual(table.columns, [
    { name: 'id', typeName: 'LONG', typeText: 'bigint', position: 0, nullable: false },
    { name: 'amount', typeName: 'DECIMAL', typeText: 'decimal(12,2)', position: 1, nullable: true },
    { name: 'day', typeName: 'DATE', typeText: 'date', position: 2, nullable: true, partitionIndex: 0 },
  ])
  assert.equal(table.properties['delta.enableChangeDataFeed'], 'true')
  assert.equal((await client.getTable('main.sales.`returns`')).tableId, ids.azure)
})

test('temporary credentials come typed per cloud, with their expiry and location', async () => {
  const client = await patClient(emulator)
  const before = Date.now()
  const aws = await client.temporaryTableCredentials(ids.aws!, 'READ')
  const azure = await client.temporaryTableCredentials(ids.azure!, 'READ_WRITE')
  const gcp = await client.temporaryTableCredentials(ids.gcp!)
  const vended = emulator.vendedCredentials.slice(-3)
  assert.deepEqual(vended.map((credential) => credential.operation), ['READ', 'READ_WRITE', 'READ'])

  const check = (credentials: TemporaryTableCredentials, url: string) => {
    assert.equal(credentials.url, url)
    assert.ok(credentials.expiresAt.getTime() >= before + 3_590_000 && credentials.expiresAt.getTime() <= Date.now() + 3_600_000)
  }
  assert.equal(aws.cloud, 'aws')
  if (aws.cloud === 'aws') {
    assert.match(aws.accessKeyId, /^ASIA/)
    assert.equal(aws.secretAccessKey, vended[0]!.secret)
    assert.match(aws.sessionToken, /^FwoG/)
  }
  check(aws, 's3://lake-bucket/sales/orders')
  assert.ok(azure.cloud === 'azure' && azure.sasToken.includes(`sig=${vended[1]!.secret}`) && azure.sasToken.includes('sp=racwdl'))
  check(azure, 'abfss://lake@account.dfs.core.windows.net/sales/returns')
  assert.ok(gcp.cloud === 'gcp' && gcp.oauthToken === `ya29.${vended[2]!.secret}`)
  check(gcp, 'gs://lake-bucket/sales/refunds')

  for (const [index, credentials] of [aws, azure, gcp].entries()) {
    const printed = inspect(credentials)
    assert.ok(!printed.includes(vended[index]!.secret), printed)
    assert.match(printed, /secrets: '\*\*\*'/)
  }
})

test('a missing table, a missing privilege and a malformed name each say what to fix', async () => {
  const client = await patClient(emulator)
  await assert.rejects(client.getTable('main.sales.nope'), (error: unknown) =>
    error instanceof SluiceError && error.code === 'DATABRICKS_API' && /HTTP 404 TABLE_DOES_NOT_EXIST: Table 'main.sales.nope' does not exist/.test(error.message) && /catalog\.schema\.table/.test(error.fix))
  await assert.rejects(client.temporaryTableCredentials(ids.locked!, 'READ'), (error: unknown) =>
    error instanceof SluiceError && error.code === 'DATABRICKS_AUTH' && /EXTERNAL USE SCHEMA on Schema 'main.hr'/.test(error.message) && /permission named above/.test(error.fix))
  await assert.rejects(client.getTable('sales.orders'), (error: unknown) =>
    error instanceof SluiceError && error.code === 'CONFIG_INVALID' && /"sales.orders" is not a Unity Catalog table name/.test(error.message))
})
