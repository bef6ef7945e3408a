/**
 * A Unity Catalog table streamed by the Delta source: the name resolves through the Databricks
 * emulator (the documented REST contract) to an s3:// location on a local S3 server (moto), read
 * with the credentials Unity Catalog vends; what reaches Kafka is delta-rs's own change feed.
 */
import assert from 'node:assert/strict'
import { readdir, readFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, test } from 'node:test'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { deltaSource, SourceRunner } from '../../src/connectors/index.ts'
import { DatabricksClient } from '../../src/databricks/index.ts'
import { createS3Store } from '../../src/delta/storage/s3.ts'
import { KafkaAdmin } from '../../src/kafka/index.ts'
import { createLogger } from '../../src/observability/logger.ts'
import { deltaRsStep } from '../../scripts/lib/delta-writers.ts'
import { startDatabricksEmulator, type DatabricksEmulator } from '../emulators/databricks/index.ts'
import { readTopic, testBrokers, uniqueName } from '../helpers/kafka.ts'
import { startMoto, type RunningServer } from '../helpers/object-servers.ts'

const TOKEN = 'dapi-test-token'
let moto: RunningServer
let databricks: DatabricksEmulator

before(async () => {
  ;[moto, databricks] = await Promise.all([startMoto(), startDatabricksEmulator({ personalAccessTokens: [TOKEN] })])
})

after(async () => {
  await Promise.allSettled([moto.stop(), databricks.close()])
})

/** Copies a local table folder to s3://bucket/prefix, file by file. */
async function upload(local: string, bucket: string, prefix: string): Promise<void> {
  const store = createS3Store(`s3://${bucket}/${prefix}`, { endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'upload', secretAccessKey: 'upload' } })
  for (const entry of await readdir(local, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    await store.put(path.slice(local.length + 1), await readFile(path))
  }
}

test('catalog.schema.table resolves to its storage and vended credentials; its rows and changes reach Kafka', async () => {
  const local = join(await mkdtemp(join(tmpdir(), 'sluice-uc-')), 'orders')
  await deltaRsStep(local, 'create', 50)
  await deltaRsStep(local, 'update', 5)
  await deltaRsStep(local, 'delete', 7)
  const bucket = uniqueName('lake').toLowerCase()
  await new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'setup', secretAccessKey: 'setup' } }).send(new CreateBucketCommand({ Bucket: bucket }))
  await upload(local, bucket, 'warehouse/orders')
  databricks.addTable({
    catalog: 'main',
    schema: 'sales',
    name: 'orders',
    storageLocation: `s3://${bucket}/warehouse/orders`,
    dataSourceFormat: 'DELTA',
    columns: [{ name: 'id', typeText: 'bigint', typeName: 'LONG' }],
  })

  const client = await DatabricksClient.connect({ host: databricks.host, token: TOKEN })
  const topic = uniqueName('uc-orders')
  const runner = new SourceRunner({ brokers: testBrokers(), applicationId: uniqueName('uc'), commitIntervalMs: 100, logger: createLogger('warn') })
  // Start at version 0: its snapshot, then the update and the delete commits.
  const source = deltaSource({ table: 'main.sales.orders', databricks: client, storage: { endpoint: moto.endpoint, region: 'us-east-1' }, topic, keyColumns: ['id'], startVersion: 0 })
  const expected = (await deltaRsStep(local, 'cdf')).trim().split('\n').map((line) => JSON.parse(line) as { _change_type: string }).filter((row) => row._change_type !== 'update_preimage')
  const running = runner.run([source])
  try {
    const deadline = Date.now() + 60_000
    while (runner.stats(source.name).records < expected.length) {
      assert.ok(Date.now() < deadline, `published ${runner.stats(source.name).records} of ${expected.length}`)
      await sleep(100)
    }
  } finally {
    runner.stop()
    await running
  }
  const published = await readTopic(topic, expected.length, { settleMs: 1000 })
  assert.equal(published.length, expected.length)
  const types = (list: string[]) => list.reduce<Record<string, number>>((counts, type) => ({ ...counts, [type]: (counts[type] ?? 0) + 1 }), {})
  assert.deepEqual(
    types(published.map((message) => message.headers.get('sluice.change_type')?.toString().replace('snapshot', 'insert') ?? '')),
    types(expected.map((row) => row._change_type)),
  )
  assert.ok(databricks.vendedCredentials.some((vended) => vended.operation === 'READ'), 'credentials were vended for READ')
  const admin = new KafkaAdmin({ brokers: testBrokers() })
  await admin.deleteTopics([topic]).catch(() => undefined)
  await admin.close()
})

test('a view is refused with a clear error', async () => {
  databricks.addTable({ catalog: 'main', schema: 'sales', name: 'orders_view', storageLocation: 's3://nowhere/view', dataSourceFormat: 'VIEW', tableType: 'EXTERNAL', columns: [] })
  const client = await DatabricksClient.connect({ host: databricks.host, token: TOKEN })
  const source = deltaSource({ table: 'main.sales.orders_view', databricks: client, topic: 'unused' })
  const reading = source.read(undefined, new AbortController().signal)[Symbol.asyncIterator]()
  await assert.rejects(reading.next(), /not a Delta table Sluice can read from storage.*SQL warehouse/)
})
