/**
 * Interoperability: topics Sluice writes with its registry serdes, through src/kafka's producer,
 * read back by an independent consumer, Python `confluent-kafka`:
 * - Avro with its AvroDeserializer (fastavro), which fetches the writer schema from the registry by id;
 * - Protobuf with its ProtobufDeserializer and classes protoc generates from the .proto text Sluice
 *   registered. That deserializer asks the registry for schemas in Confluent's `serialized` format,
 *   which the test registry (Apicurio) does not serve, so it runs without a registry: it still
 *   parses the wire format (magic byte, schema id, message indexes) itself.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { KafkaAdmin, KafkaProducer } from '../../src/kafka/index.ts'
import { SchemaRegistryClient, avroSerde, deltaToAvro, deltaToProtobuf, protobufSerde, string } from '../../src/serialization/index.ts'
import { testBrokers, uniqueName } from '../helpers/kafka.ts'
import { pythonEnv, type PythonEnv } from '../../scripts/lib/python-env.ts'
import { startSchemaRegistry, type TestSchemaRegistry } from '../helpers/schema-registry.ts'
import { everyType, fullRow, sparseRow } from './delta-rows.ts'

const CONFLUENT_KAFKA = ['confluent-kafka[avro,protobuf]==2.16.1', 'fastavro==1.13.1', 'grpcio-tools==1.85.1']

let registry: TestSchemaRegistry
let python: PythonEnv
const admin = new KafkaAdmin({ brokers: testBrokers() })
const topics: string[] = []

// First run on a machine: Maven builds the registry and pip fills the venv, minutes each.
before(
  async () => {
    ;[registry, python] = await Promise.all([startSchemaRegistry(), pythonEnv('confluent-kafka', CONFLUENT_KAFKA)])
  },
  { timeout: 30 * 60_000 },
)

after(async () => {
  await admin.deleteTopics(topics).catch(() => undefined)
  await admin.close()
  await registry?.stop()
})

/** Consumes `count` records with confluent-kafka and prints them as JSON, typed values spelled out. */
const PYTHON_READER = `
import base64, datetime, decimal, json, sys, time
from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

brokers, topic, registry_url, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
deserialize = AvroDeserializer(SchemaRegistryClient({'url': registry_url}))
consumer = Consumer({'bootstrap.servers': brokers, 'group.id': 'py-' + topic, 'auto.offset.reset': 'earliest',
                     'enable.auto.commit': False, 'isolation.level': 'read_committed'})
consumer.subscribe([topic])

def spelled(value):
    if isinstance(value, decimal.Decimal): return {'decimal': str(value)}
    if isinstance(value, datetime.datetime): return {'datetime': value.isoformat()}
    if isinstance(value, datetime.date): return {'date': value.isoformat()}
    if isinstance(value, bytes): return {'bytes': value.hex()}
    if isinstance(value, dict): return {k: spelled(v) for k, v in value.items()}
    if isinstance(value, list): return [spelled(v) for v in value]
    return value

records, deadline = [], time.time() + 60
while len(records) < count and time.time() < deadline:
    message = consumer.poll(1.0)
    if message is None: continue
    if message.error(): raise Exception(message.error())
    value = deserialize(message.value(), SerializationContext(topic, MessageField.VALUE))
    records.append({'key': message.key().decode(), 'value': spelled(value)})
consumer.close()
print(json.dumps(records))
`

/** Generates Python classes from the .proto text with protoc, then consumes `count` records as dicts. */
const PYTHON_PROTOBUF_READER = `
import importlib, importlib.resources, json, os, sys, tempfile, time
from confluent_kafka import Consumer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf.json_format import MessageToDict
from grpc_tools import protoc

brokers, topic, message_name, count, proto = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
folder = tempfile.mkdtemp()
with open(os.path.join(folder, 'row.proto'), 'w') as file: file.write(proto)
well_known = str(importlib.resources.files('grpc_tools') / '_proto')
if protoc.main(['protoc', '-I', folder, '-I', well_known, '--python_out', folder, 'row.proto']) != 0: raise Exception('protoc failed')
sys.path.insert(0, folder)
message_class = getattr(importlib.import_module('row_pb2'), message_name)
deserialize = ProtobufDeserializer(message_class, {'use.deprecated.format': False})
consumer = Consumer({'bootstrap.servers': brokers, 'group.id': 'py-' + topic, 'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
consumer.subscribe([topic])
records, deadline = [], time.time() + 60
while len(records) < count and time.time() < deadline:
    message = consumer.poll(1.0)
    if message is None: continue
    if message.error(): raise Exception(message.error())
    value = deserialize(message.value(), SerializationContext(topic, MessageField.VALUE))
    records.append({'schema_id': int.from_bytes(message.value()[1:5], 'big'),
                    'value': MessageToDict(value, preserving_proto_field_name=True)})
consumer.close()
print(json.dumps(records))
`

test('a Sluice-written Avro topic is read back by Python confluent-kafka’s AvroDeserializer', async () => {
  const topic = uniqueName('interop-avro')
  await admin.createTopics([{ name: topic, partitions: 1 }])
  topics.push(topic)

  const serde = avroSerde({ schema: deltaToAvro(everyType, { name: 'Order', namespace: 'shop' }), registry: { client: new SchemaRegistryClient({ url: registry.url }) } })
  await serde.prepare(topic)
  const context = { topic, isKey: false }
  const producer = new KafkaProducer({ brokers: testBrokers() })
  try {
    await producer.send([
      { topic, key: string.serialize('full', { topic, isKey: true }), value: serde.serialize(fullRow, context) },
      { topic, key: string.serialize('sparse', { topic, isKey: true }), value: serde.serialize(sparseRow, context) },
    ])
  } finally {
    await producer.close()
  }

  const output = await python.runScript(PYTHON_READER, [testBrokers().join(','), topic, registry.url, '2'], { timeoutMs: 120_000 })
  const records = JSON.parse(output) as { key: string; value: Record<string, unknown> }[]
  assert.deepEqual(records.map((record) => record.key), ['full', 'sparse'])
  const full = records[0]!.value
  assert.match(output, /"id": 9007199254740993,/, 'a long past 2^53 arrives exactly (read in the raw output: JSON.parse would round it)')
  assert.equal(full.quantity, -7)
  assert.equal(full.small, 32000)
  assert.equal(full.score, 3.141592653589793)
  assert.equal(full.name, 'Zoë ☕')
  assert.equal(full.active, true)
  assert.deepEqual(full.payload, { bytes: '000102ff' })
  assert.deepEqual(full.price, { decimal: '-1234567890.05' })
  assert.deepEqual(full.created_at, { datetime: '2024-02-29T23:59:58.123000+00:00' })
  assert.deepEqual(full.local_at, { datetime: '2024-03-01T08:00:00' }, 'local-timestamp-micros is a naive (zone-less) datetime')
  assert.deepEqual(full.day, { date: '1969-12-31' })
  assert.deepEqual(full.address, { city: 'Oslo', zip: null })
  assert.deepEqual(full.tags, ['a', 'b'])
  assert.deepEqual(full.counts, { x: 1, y: -2 })
  assert.deepEqual(full.by_day, [
    { key: { date: '2024-01-01' }, value: 1.5 },
    { key: { date: '2024-01-02' }, value: null },
  ])
  assert.deepEqual(full.lines, [{ sku: 'A-1', amount: { decimal: '0.125' } }])
  const sparse = records[1]!.value
  assert.equal(sparse.name, null)
  assert.equal(sparse.price, null)
  assert.equal(sparse.created_at, null)
  assert.deepEqual(sparse.lines, [])
})

test('a Sluice-written Protobuf topic is read back by Python confluent-kafka’s ProtobufDeserializer', async () => {
  const topic = uniqueName('interop-protobuf')
  await admin.createTopics([{ name: topic, partitions: 1 }])
  topics.push(topic)

  const proto = deltaToProtobuf(everyType, { name: 'Order', package: 'shop' })
  const serde = protobufSerde({ schema: proto.schema, messageType: proto.messageType, registry: { client: new SchemaRegistryClient({ url: registry.url }) } })
  await serde.prepare(topic)
  const context = { topic, isKey: false }
  const producer = new KafkaProducer({ brokers: testBrokers() })
  try {
    await producer.send([{ topic, value: serde.serialize({ ...fullRow, day: -1, by_day: { '19723': 1.5 } }, context) }])
  } finally {
    await producer.close()
  }

  const output = await python.runScript(PYTHON_PROTOBUF_READER, [testBrokers().join(','), topic, 'Order', '1', proto.schema], { timeoutMs: 120_000 })
  const [record] = JSON.parse(output) as { schema_id: number; value: Record<string, unknown> }[]
  assert.equal(record!.schema_id, serde.schemaIdFor(topic))
  // Protobuf's JSON mapping: int64 as a decimal string, Timestamp as RFC 3339, bytes as base64.
  assert.deepEqual(record!.value, {
    id: '9007199254740993',
    quantity: -7,
    small: 32000,
    tiny: -128,
    ratio: 0.5,
    score: 3.141592653589793,
    name: 'Zoë ☕',
    active: true,
    payload: 'AAEC/w==',
    price: '-1234567890.05',
    created_at: '2024-02-29T23:59:58.123Z',
    local_at: '2024-03-01T08:00:00Z',
    day: -1,
    address: { city: 'Oslo' },
    tags: ['a', 'b'],
    counts: { x: '1', y: '-2' },
    by_day: { '19723': 1.5 },
    lines: [{ sku: 'A-1', amount: '0.125' }],
  })
})
