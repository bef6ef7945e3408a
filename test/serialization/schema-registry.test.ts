/**
 * The serdes and the registry client against a real Schema Registry (Apicurio's Confluent API,
 * started by test/helpers/schema-registry.ts).
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, before, test } from 'node:test'
import { SluiceError } from '../../src/errors.ts'
import {
  SchemaRegistryClient,
  avroSerde,
  deltaToAvro,
  deltaToJsonSchema,
  deltaToProtobuf,
  jsonSchemaSerde,
  protobufSerde,
  recordNameStrategy,
  topicRecordNameStrategy,
  type DeltaStructType,
  type SchemaDefinition,
} from '../../src/serialization/index.ts'
import { uniqueName } from '../helpers/kafka.ts'
import { startSchemaRegistry, type TestSchemaRegistry } from '../helpers/schema-registry.ts'
import { everyType, fullRow, plain, sparseRow } from './delta-rows.ts'

let registry: TestSchemaRegistry
let client: SchemaRegistryClient

// The first run on a machine builds the registry with Maven (minutes); later runs start it in seconds.
before(
  async () => {
    registry = await startSchemaRegistry()
    client = new SchemaRegistryClient({ url: registry.url })
  },
  { timeout: 20 * 60_000 },
)

after(async () => {
  await registry?.stop()
})

const orderV1 = { type: 'record', name: 'Order', namespace: 'shop', fields: [{ name: 'id', type: 'long' }] } as const

test('register, look up by id, by version and latest, and check compatibility', async () => {
  const subject = uniqueName('orders-value')
  const schema: SchemaDefinition = { schemaType: 'AVRO', schema: JSON.stringify(orderV1) }
  const id = await client.register(subject, schema)
  assert.equal(await client.register(subject, schema), id, 'registering the same schema again gives the same id')
  assert.deepEqual(JSON.parse((await client.schemaById(id)).schema), orderV1)
  const latest = await client.latestVersion(subject)
  assert.equal(latest.id, id)
  assert.equal(latest.version, 1)
  assert.equal((await client.schemaVersion(subject, 1)).id, id)
  assert.equal((await client.lookup(subject, schema)).id, id)
  assert.ok((await client.subjects()).includes(subject))
  await client.setCompatibility(subject, 'BACKWARD')
  const withDefault = { ...orderV1, fields: [...orderV1.fields, { name: 'note', type: ['null', 'string'], default: null }] }
  assert.equal((await client.checkCompatibility(subject, { schemaType: 'AVRO', schema: JSON.stringify(withDefault) })).compatible, true)
  const retyped = { ...orderV1, fields: [{ name: 'id', type: 'string' }] }
  assert.equal((await client.checkCompatibility(subject, { schemaType: 'AVRO', schema: JSON.stringify(retyped) })).compatible, false)
})

test('Avro through the registry: every Delta type round-trips; the reader fetches the writer schema by id', async () => {
  const topic = uniqueName('orders')
  const producerSide = avroSerde({ schema: deltaToAvro(everyType), registry: { client } })
  await producerSide.prepare(topic)
  const id = producerSide.schemaIdFor(topic)!
  const context = { topic, isKey: false }
  const messages = [fullRow, sparseRow].map((row) => producerSide.serialize(row, context))
  assert.equal(messages[0]!.subarray(0, 5).toString('hex'), `00${id.toString(16).padStart(8, '0')}`)
  // A consumer that has no schema of its own: it reads with the writer's schema from the registry.
  const consumerSide = avroSerde({ registry: { client, writerSchema: 'use-latest' } })
  assert.throws(() => consumerSide.deserialize(messages[0]!, context), (error: unknown) => error instanceof SluiceError && error.code === 'DESERIALIZATION_FAILED' && /schema id \d+.*prepareBatch/.test(error.message))
  await consumerSide.prepareBatch(messages)
  assert.deepEqual(plain(consumerSide.deserialize(messages[0]!, context)), fullRow)
  assert.deepEqual(plain(consumerSide.deserialize(messages[1]!, context)), sparseRow)
  assert.throws(() => avroSerde({ schema: orderV1, registry: { client } }).serialize({ id: 1n }, context), /no schema id for the values of topic .*await serde\.prepare/)
})

test('Protobuf through the registry: every Delta type round-trips, with the message indexes of a nested type', async () => {
  const topic = uniqueName('orders')
  const proto = deltaToProtobuf(everyType, { name: 'Order', package: 'shop.v1' })
  const serde = protobufSerde({ schema: proto.schema, messageType: proto.messageType, registry: { client } })
  await serde.prepare(topic)
  const context = { topic, isKey: false }
  const row = { ...fullRow, day: 19_000, by_day: { '19723': 1.5 } }
  const bytes = serde.serialize(row, context)
  assert.equal(bytes[5], 0, 'the first message of the file is written as the [0] shortcut')
  const reader = protobufSerde({ registry: { client, writerSchema: 'use-latest' } })
  await reader.prepareBatch([bytes])
  assert.deepEqual(reader.deserialize(bytes, context), row)

  // Writing the second top-level message, and a nested one, names them by index.
  const source = 'syntax = "proto3";\npackage shop;\nmessage Header { string id = 1; }\nmessage Line { string sku = 1; message Detail { int64 qty = 1; } }\n'
  for (const [messageType, indexesHex] of [['shop.Line', '0202'], ['shop.Line.Detail', '040200']] as const) {
    const nestedTopic = uniqueName('lines')
    const writer = protobufSerde({ schema: source, messageType, registry: { client } })
    await writer.prepare(nestedTopic)
    const value = messageType === 'shop.Line' ? { sku: 'A-1' } : { qty: 3n }
    const framed = writer.serialize(value, { topic: nestedTopic, isKey: false })
    assert.equal(framed.subarray(5, 5 + indexesHex.length / 2).toString('hex'), indexesHex)
    const generic = protobufSerde({ registry: { client, writerSchema: 'use-latest' } })
    await generic.prepareBatch([framed])
    assert.deepEqual(generic.deserialize(framed, { topic: nestedTopic, isKey: false }), value)
  }
})

test('JSON Schema through the registry: validated on write and read', async () => {
  const topic = uniqueName('orders')
  const serde = jsonSchemaSerde({ schema: deltaToJsonSchema(everyType), registry: { client } })
  await serde.prepare(topic)
  const context = { topic, isKey: false }
  const row = { ...fullRow, day: '2024-01-01', by_day: [{ key: '2024-01-01', value: 2 }] }
  const bytes = serde.serialize(row, context)
  assert.equal(bytes.readUInt32BE(1), serde.schemaIdFor(topic))
  await serde.prepareBatch([bytes])
  const decoded = serde.deserialize(bytes, context) as Record<string, unknown>
  assert.equal(decoded.created_at, '2024-02-29T23:59:58.123Z')
  assert.equal(decoded.price, '-1234567890.05')
  assert.throws(() => serde.serialize({ ...row, active: 'yes' }, context), (error: unknown) => error instanceof SluiceError && error.code === 'SERIALIZATION_FAILED' && /field "active"/.test(error.message))
})

test('subject name strategies: TopicName, RecordName and TopicRecordName', async () => {
  const topic = uniqueName('orders')
  const record = { type: 'record', name: uniqueName('Order').replace(/-/g, '_'), namespace: 'shop', fields: [{ name: 'id', type: 'long' }] } as const
  await avroSerde({ schema: record, registry: { client } }).prepare(topic, true)
  await avroSerde({ schema: record, registry: { client, subjectNameStrategy: recordNameStrategy } }).prepare(topic)
  await avroSerde({ schema: record, registry: { client, subjectNameStrategy: topicRecordNameStrategy } }).prepare(topic)
  const subjects = await client.subjects()
  for (const subject of [`${topic}-key`, `shop.${record.name}`, `${topic}-shop.${record.name}`]) assert.ok(subjects.includes(subject), `subject ${subject} registered`)
})

test('schema references: an Avro record using a named type registered under another subject', async () => {
  const addressSubject = uniqueName('address')
  const address = { type: 'record', name: 'Address', namespace: 'shop', fields: [{ name: 'city', type: 'string' }] }
  await client.register(addressSubject, { schemaType: 'AVRO', schema: JSON.stringify(address) })
  const topic = uniqueName('customers')
  const customer = { type: 'record', name: 'Customer', namespace: 'shop', fields: [{ name: 'name', type: 'string' }, { name: 'home', type: 'shop.Address' }] }
  const references = [{ name: 'shop.Address', subject: addressSubject, version: 1 }]
  const serde = avroSerde<object, { name: string; home: { city: string } }>({ schema: customer, references, registry: { client } })
  await serde.prepare(topic)
  const context = { topic, isKey: false }
  const bytes = serde.serialize({ name: 'Ada', home: { city: 'London' } }, context)
  const registered = await client.schemaById(serde.schemaIdFor(topic)!)
  assert.deepEqual(registered.references, references)
  const reader = avroSerde({ registry: { client, writerSchema: 'use-latest' } })
  await reader.prepareBatch([bytes])
  assert.deepEqual(plain(reader.deserialize(bytes, context)), { name: 'Ada', home: { city: 'London' } })
})

test('schema references: a .proto file importing another registered file', async () => {
  const addressSubject = uniqueName('address-proto')
  const addressProto = 'syntax = "proto3";\npackage shop;\nmessage Address { string city = 1; }\n'
  await client.register(addressSubject, { schemaType: 'PROTOBUF', schema: addressProto })
  const topic = uniqueName('customers')
  const customerProto = 'syntax = "proto3";\npackage shop;\nimport "shop/address.proto";\nmessage Customer { string name = 1; Address home = 2; }\n'
  const references = [{ name: 'shop/address.proto', subject: addressSubject, version: 1 }]
  const serde = protobufSerde<{ name: string; home: { city: string } }>({ schema: customerProto, messageType: 'shop.Customer', references, registry: { client } })
  await serde.prepare(topic)
  const context = { topic, isKey: false }
  const bytes = serde.serialize({ name: 'Ada', home: { city: 'London' } }, context)
  assert.equal(bytes[5], 0, 'Customer is the first message of its own file')
  const reader = protobufSerde({ registry: { client, writerSchema: 'use-latest' } })
  await reader.prepareBatch([bytes])
  assert.deepEqual(reader.deserialize(bytes, context), { name: 'Ada', home: { city: 'London' } })
})

test('a Delta table that gains nullable columns evolves BACKWARD compatibly in all three formats', async () => {
  const v1: DeltaStructType = everyType
  const v2: DeltaStructType = { ...v1, fields: [...v1.fields, { name: 'discount', type: 'decimal(5,2)', nullable: true }, { name: 'note', type: 'string', nullable: true }] }
  const formats = [
    { name: 'avro', v1: avroSerde({ schema: deltaToAvro(v1), registry: { client } }), v2: avroSerde({ schema: deltaToAvro(v2), registry: { client } }), row: fullRow },
    {
      name: 'protobuf',
      v1: protobufSerde({ schema: deltaToProtobuf(v1).schema, registry: { client } }),
      v2: protobufSerde({ schema: deltaToProtobuf(v2).schema, registry: { client } }),
      row: { ...fullRow, day: 1, by_day: {} },
    },
    {
      name: 'json',
      v1: jsonSchemaSerde({ schema: deltaToJsonSchema(v1), registry: { client } }),
      v2: jsonSchemaSerde({ schema: deltaToJsonSchema(v2), registry: { client } }),
      row: { ...fullRow, day: '2024-01-01', by_day: [] },
    },
  ]
  for (const format of formats) {
    const topic = uniqueName(`evolving-${format.name}`)
    const context = { topic, isKey: false }
    await format.v1.prepare(topic)
    await client.setCompatibility(`${topic}-value`, 'BACKWARD')
    const old = format.v1.serialize(format.row, context)
    await format.v2.prepare(topic)
    assert.notEqual(format.v2.schemaIdFor(topic), format.v1.schemaIdFor(topic), `${format.name}: v2 is a new version`)
    assert.equal((await client.latestVersion(`${topic}-value`)).version, 2)
    // The new schema's serde reads records written before the change: the new columns are null.
    await format.v2.prepareBatch([old])
    const decoded = format.v2.deserialize(old, context) as Record<string, unknown>
    assert.equal(decoded.discount ?? null, null, format.name)
    assert.equal(decoded.name, fullRow.name, format.name)
  }
})

test('an incompatible change is refused with SCHEMA_INCOMPATIBLE naming the field', async () => {
  const topic = uniqueName('orders')
  const v1: DeltaStructType = { type: 'struct', fields: [{ name: 'id', type: 'long', nullable: false }, { name: 'amount', type: 'decimal(10,2)', nullable: true }] }
  const v2: DeltaStructType = { type: 'struct', fields: [{ name: 'id', type: 'long', nullable: false }, { name: 'amount', type: 'double', nullable: true }] }
  await avroSerde({ schema: deltaToAvro(v1), registry: { client } }).prepare(topic)
  await client.setCompatibility(`${topic}-value`, 'BACKWARD')
  await assert.rejects(avroSerde({ schema: deltaToAvro(v2), registry: { client } }).prepare(topic), (error: unknown) => {
    assert.ok(error instanceof SluiceError)
    assert.equal(error.code, 'SCHEMA_INCOMPATIBLE')
    assert.match(error.message, new RegExp(`refused to change subject "${topic}-value"`))
    assert.match(error.message, /incompatible field: "amount"/)
    assert.match(error.fix, /add fields only with defaults or as nullable/)
    return true
  })
})

test('lookup mode writes with an id registered beforehand, and keys use the -key subject', async () => {
  const topic = uniqueName('orders')
  const key = { type: 'record', name: 'OrderKey', namespace: 'shop', fields: [{ name: 'id', type: 'long' }] } as const
  const unregistered = avroSerde({ schema: key, registry: { client, writerSchema: 'lookup' } })
  await assert.rejects(unregistered.prepare(topic, true), (error: unknown) => error instanceof SluiceError && error.code === 'SCHEMA_REGISTRY')
  const id = await client.register(`${topic}-key`, { schemaType: 'AVRO', schema: JSON.stringify(key) })
  const keys = avroSerde({ schema: key, registry: { client, writerSchema: 'lookup' } })
  await keys.prepare(topic, true)
  assert.equal(keys.schemaIdFor(topic, true), id)
  const bytes = keys.serialize({ id: 42n }, { topic, isKey: true })
  assert.equal(bytes.readUInt32BE(1), id)
  await keys.prepareBatch([bytes])
  assert.deepEqual(plain(keys.deserialize(bytes, { topic, isKey: true })), { id: 42n })
})

test('incompatible Protobuf and JSON Schema changes are refused too', async () => {
  const v1: DeltaStructType = { type: 'struct', fields: [{ name: 'id', type: 'long', nullable: false }, { name: 'name', type: 'string', nullable: true }] }
  const v2: DeltaStructType = { type: 'struct', fields: [{ name: 'id', type: 'string', nullable: false }, { name: 'name', type: 'string', nullable: true }] }
  const pairs = [
    { v1: protobufSerde({ schema: deltaToProtobuf(v1).schema, registry: { client } }), v2: protobufSerde({ schema: deltaToProtobuf(v2).schema, registry: { client } }) },
    { v1: jsonSchemaSerde({ schema: deltaToJsonSchema(v1), registry: { client } }), v2: jsonSchemaSerde({ schema: deltaToJsonSchema(v2), registry: { client } }) },
  ]
  for (const pair of pairs) {
    const topic = uniqueName('retyped')
    await pair.v1.prepare(topic)
    await client.setCompatibility(`${topic}-value`, 'BACKWARD')
    await assert.rejects(
      pair.v2.prepare(topic),
      (error: unknown) => error instanceof SluiceError && error.code === 'SCHEMA_INCOMPATIBLE' && error.message.includes(`${topic}-value`) && /incompatible field: "id/.test(error.message),
    )
  }
})

test('registry errors say what to fix; a missing subject, an unreachable registry', async () => {
  await assert.rejects(client.latestVersion(uniqueName('nothing-value')), (error: unknown) => error instanceof SluiceError && error.code === 'SCHEMA_REGISTRY' && /Register a schema under subject/.test(error.fix))
  const down = new SchemaRegistryClient({ url: 'http://127.0.0.1:9', timeoutMs: 2000 })
  await assert.rejects(down.schemaById(1), (error: unknown) => error instanceof SluiceError && error.code === 'SCHEMA_REGISTRY' && error.retriable && /Could not reach the Schema Registry at http:\/\/127\.0\.0\.1:9/.test(error.message))
})

test('basic and bearer credentials are sent as Authorization headers and never appear in errors', async () => {
  // The registry above runs without authentication; this server only records what the client sends
  // and answers 401 the way a registry with auth does, echoing the credentials back.
  const seen: string[] = []
  const server = createServer((request, response) => {
    seen.push(request.headers.authorization ?? '')
    response.writeHead(401, { 'Content-Type': 'application/json' })
    response.end(JSON.stringify({ error_code: 40101, message: `Unauthorized: ${request.headers.authorization ?? ''} / s3cr3t-pass / t0ken-xyz` }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  try {
    const basic = new SchemaRegistryClient({ url: `http://127.0.0.1:${port}`, auth: { type: 'basic', username: 'svc', password: 's3cr3t-pass' } })
    await assert.rejects(basic.subjects(), (error: unknown) => error instanceof SluiceError && error.code === 'SCHEMA_REGISTRY' && !error.message.includes('s3cr3t-pass') && /credentials/.test(error.fix))
    const bearer = new SchemaRegistryClient({ url: `http://127.0.0.1:${port}`, auth: { type: 'bearer', token: 't0ken-xyz' } })
    await assert.rejects(bearer.subjects(), (error: unknown) => error instanceof SluiceError && !error.message.includes('t0ken-xyz'))
    assert.deepEqual(seen, [`Basic ${Buffer.from('svc:s3cr3t-pass').toString('base64')}`, 'Bearer t0ken-xyz'])
  } finally {
    server.close()
  }
})
