/**
 * The Delta source writing Avro and Protobuf through a real Schema Registry (Apicurio, Confluent
 * API): the record schema is derived from the table's schema, registered under `<topic>-value`,
 * and evolved when the table gains a column (delta-rs schema evolution) — a registry-aware reader
 * that knows nothing of the table decodes every record.
 */
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { deltaSource, SourceRunner } from '../../src/connectors/index.ts'
import { KafkaAdmin } from '../../src/kafka/index.ts'
import { createLogger } from '../../src/observability/logger.ts'
import { avroSerde, protobufSerde, SchemaRegistryClient, type SchemaSerde } from '../../src/serialization/index.ts'
import { deltaRsStep } from '../../scripts/lib/delta-writers.ts'
import { readTopic, testBrokers, uniqueName } from '../helpers/kafka.ts'
import { startSchemaRegistry, type TestSchemaRegistry } from '../helpers/schema-registry.ts'
import { until } from './helpers.ts'

let registry: TestSchemaRegistry
let client: SchemaRegistryClient
const topics: string[] = []

// The first run on a machine builds the registry with Maven (minutes); later runs start it in seconds.
before(async () => {
  registry = await startSchemaRegistry()
  client = new SchemaRegistryClient({ url: registry.url })
}, { timeout: 20 * 60_000 })

after(async () => {
  await registry?.stop()
  const admin = new KafkaAdmin({ brokers: testBrokers() })
  await admin.deleteTopics(topics).catch(() => undefined)
  await admin.close()
})

for (const valueFormat of ['avro', 'protobuf'] as const) {
  test(`${valueFormat}: schema from the table, registered, evolved when the table gains a column`, async () => {
    const table = join(await mkdtemp(join(tmpdir(), 'sluice-formats-')), 'orders')
    await deltaRsStep(table, 'create', 30)
    const topic = uniqueName(`orders-${valueFormat}`)
    topics.push(topic)
    const runner = new SourceRunner({ brokers: testBrokers(), applicationId: uniqueName('formats'), commitIntervalMs: 100, logger: createLogger('warn') })
    const source = deltaSource({ table, topic, keyColumns: ['id'], valueFormat, registry: client, pollIntervalMs: 100 })
    const running = runner.run([source])
    try {
      await until('the snapshot is published', () => runner.stats(source.name).records >= 30)
      await deltaRsStep(table, 'evolve', 30, 10)
      await until('the rows with the new column are published', () => runner.stats(source.name).records >= 40)
    } finally {
      runner.stop()
      await running
    }

    const subject = `${topic}-value`
    assert.equal((await client.latestVersion(subject)).version, 2, 'the table gained a column: a second, compatible schema version')
    const reader: SchemaSerde<Record<string, unknown>> =
      valueFormat === 'avro'
        ? avroSerde<object, Record<string, unknown>>({ registry: { client, writerSchema: 'use-latest' } })
        : protobufSerde<Record<string, unknown>>({ registry: { client, writerSchema: 'use-latest' } })
    const messages = await readTopic(topic, 40, { settleMs: 1000 })
    await reader.prepareBatch(messages.map((message) => message.value))
    const rows = messages.map((message) => reader.deserialize(message.value as Buffer, { topic, isKey: false }))
    const byId = new Map(rows.map((row) => [Number(row.id), row]))
    assert.equal(byId.size, 40)
    assert.equal(byId.get(7)?.customer, ['ada', 'bob', 'cy', 'dee', 'eve'][7 % 5])
    assert.equal(Number(byId.get(7)?.amount), 7)
    assert.equal(byId.get(35)?.note, 'note-35', 'rows written after the schema change carry the new column')
    assert.ok(byId.get(3)?.note === null || byId.get(3)?.note === undefined || byId.get(3)?.note === '', 'rows from before it have no note')
  })
}
