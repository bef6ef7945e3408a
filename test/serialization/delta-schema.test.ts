import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SluiceError } from '../../src/errors.ts'
import { avroSerde, avroType, deltaToAvro, deltaToJsonSchema, deltaToProtobuf, jsonSchemaSerde, protobufSerde, type DeltaStructType } from '../../src/serialization/index.ts'
import { everyType, fullRow, plain, sparseRow } from './delta-rows.ts'

const context = { topic: 'orders', isKey: false }

test('Avro: the Delta types map to the Avro logical types and nullable columns to unions with null', () => {
  const schema = deltaToAvro(everyType, { name: 'Order', namespace: 'shop' }) as { name: string; namespace: string; fields: { name: string; type: unknown; default?: unknown; doc?: string }[] }
  const field = (name: string) => schema.fields.find((candidate) => candidate.name === name)!
  assert.equal(`${schema.namespace}.${schema.name}`, 'shop.Order')
  assert.deepEqual(field('id'), { name: 'id', type: 'long', doc: 'order id' })
  assert.deepEqual(field('price'), { name: 'price', type: ['null', { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 }], default: null })
  assert.deepEqual(field('created_at').type, ['null', { type: 'long', logicalType: 'timestamp-micros' }])
  assert.deepEqual(field('local_at').type, ['null', { type: 'long', logicalType: 'local-timestamp-micros' }])
  assert.deepEqual(field('day').type, ['null', { type: 'int', logicalType: 'date' }])
  assert.deepEqual(field('quantity').type, 'int')
  assert.deepEqual(field('counts').type, ['null', { type: 'map', values: 'long' }])
  // A map with non-string keys becomes a list of key/value records.
  assert.equal((field('by_day').type as [string, { type: string }])[1].type, 'array')
  // Decimals as strings on request.
  const asString = deltaToAvro(everyType, { decimal: 'string' }) as { fields: { name: string; type: unknown }[] }
  assert.deepEqual(asString.fields.find((candidate) => candidate.name === 'price')!.type, ['null', 'string'])
  // The schema is valid Avro.
  assert.ok(avroType(schema))
})

test('Avro: every Delta type round-trips in its natural JS form, full and all-null', () => {
  const serde = avroSerde({ schema: deltaToAvro(everyType) })
  for (const row of [fullRow, sparseRow]) {
    const decoded = serde.deserialize(serde.serialize(row, context), context)
    assert.deepEqual(plain(decoded), row)
  }
  // Writes also accept the raw forms: bigint microseconds, 'YYYY-MM-DD', numbers for longs and decimals.
  const decoded = serde.deserialize(
    serde.serialize({ ...sparseRow, id: 5, created_at: 1_700_000_000_123_000n, day: '2024-02-29', price: 12.5 }, context),
    context,
  ) as Record<string, unknown>
  assert.equal(decoded.id, 5n)
  assert.deepEqual(decoded.created_at, new Date(1_700_000_000_123))
  assert.deepEqual(decoded.day, new Date('2024-02-29T00:00:00Z'))
  assert.equal(decoded.price, '12.50')
})

test('Avro: a value the schema refuses names the field', () => {
  const serde = avroSerde({ schema: deltaToAvro(everyType) })
  const refused = (row: unknown, field: RegExp) =>
    assert.throws(
      () => serde.serialize(row, context),
      (error: unknown) => error instanceof SluiceError && error.code === 'SERIALIZATION_FAILED' && /topic "orders"/.test(error.message) && field.test(error.message),
    )
  refused({ ...fullRow, price: '1.234' }, /field "price"/)
  refused({ ...fullRow, quantity: 'seven' }, /field "quantity" = "seven"/)
  refused({ ...fullRow, address: { city: 5, zip: null } }, /field "address.city"/)
  refused({ ...fullRow, id: undefined }, /field "id" = undefined \(missing\)/)
})

test('Protobuf: every Delta type round-trips (timestamps as Date, dates as day numbers, decimals as strings)', () => {
  const proto = deltaToProtobuf(everyType, { name: 'Order', package: 'shop.v1' })
  assert.equal(proto.messageType, 'shop.v1.Order')
  assert.match(proto.schema, /^syntax = "proto3";\npackage shop\.v1;\nimport "google\/protobuf\/timestamp\.proto";/)
  assert.match(proto.schema, / {2}int64 id = 1;\n/)
  assert.match(proto.schema, / {2}optional string price = 10;\n/)
  assert.match(proto.schema, / {2}optional google\.protobuf\.Timestamp created_at = 11;\n/)
  assert.match(proto.schema, / {2}map<string, int64> counts = 16;\n/)
  // Dates are day numbers (int32), which Protobuf takes as map keys; JS objects hold them as strings.
  assert.match(proto.schema, / {2}map<int32, double> by_day = 17;\n/)
  const serde = protobufSerde({ schema: proto.schema, messageType: proto.messageType })
  const row = { ...fullRow, day: -1, by_day: { '19723': 1.5 } }
  assert.deepEqual(serde.deserialize(serde.serialize(row, context), context), row)
  // Protobuf has no null collections: an unset repeated or map field reads back empty.
  const sparse = { ...sparseRow, tags: [], counts: {}, by_day: {} }
  assert.deepEqual(serde.deserialize(serde.serialize(sparse, context), context), sparse)
})

test('Protobuf: values protobufjs would silently coerce are refused, naming the field', () => {
  const proto = deltaToProtobuf(everyType)
  const serde = protobufSerde({ schema: proto.schema, messageType: proto.messageType })
  const row = { ...fullRow, day: -1, by_day: {} }
  const refused = (bad: unknown, message: RegExp) =>
    assert.throws(() => serde.serialize(bad as never, context), (error: unknown) => error instanceof SluiceError && error.code === 'SERIALIZATION_FAILED' && message.test(error.message))
  refused({ ...row, quantity: 2 ** 40 }, /field "quantity" \(quantity must be an integer from -2147483648 to 2147483647, got 1099511627776\)/)
  refused({ ...row, tags: ['a', null] }, /field "tags\[1\]" \(tags\[1\] is null, which Protobuf list elements cannot be\)/)
  refused({ ...row, address: { city: 7 } }, /field "address\.city"/)
  refused({ ...row, id: 1.5 }, /field "id" \(id must be a bigint/)
  refused({ ...row, created_at: 'yesterday' }, /field "created_at" \(created_at is not a valid timestamp\)/)
})

test('JSON Schema: every Delta type round-trips as JSON and values are validated', () => {
  const schema = deltaToJsonSchema(everyType, { title: 'Order' })
  const serde = jsonSchemaSerde({ schema })
  const bytes = serde.serialize({ ...fullRow, day: '1969-12-31', by_day: [{ key: '2024-01-01', value: 1.5 }] }, context)
  const text = bytes.toString()
  assert.match(text, /"id":9007199254740993,/, 'a long past 2^53 is written exactly')
  assert.match(text, /"payload":"AAEC\/w=="/)
  assert.match(text, /"created_at":"2024-02-29T23:59:58\.123Z"/)
  const decoded = serde.deserialize(bytes, context) as Record<string, unknown>
  assert.equal(decoded.price, '-1234567890.05')
  assert.deepEqual(decoded.address, { city: 'Oslo', zip: null })
  assert.throws(() => serde.serialize({ ...fullRow, day: '1969-12-31', by_day: [], quantity: 2 ** 31 }, context), /field "quantity".*must be <= 2147483647/)
  assert.throws(() => serde.serialize({ ...fullRow, day: '1969-12-31', by_day: [], extra: 1 }, context), /must NOT have additional properties/)
  assert.throws(
    () => serde.deserialize(Buffer.from('{"id": 1}'), context),
    (error: unknown) => error instanceof SluiceError && error.code === 'DESERIALIZATION_FAILED' && /"orders" does not match its JSON Schema/.test(error.message),
  )
})

test('a column name a format cannot carry, or a type without a mapping, is refused by name', () => {
  const badName: DeltaStructType = { type: 'struct', fields: [{ name: 'order id', type: 'long', nullable: false }] }
  assert.throws(() => deltaToAvro(badName), (error: unknown) => error instanceof SluiceError && error.code === 'CONFIG_INVALID' && /Column "order id" cannot be a Avro field name/.test(error.message))
  assert.ok(deltaToJsonSchema(badName), 'JSON Schema takes any column name')
  const variant: DeltaStructType = { type: 'struct', fields: [{ name: 'v', type: { type: 'struct', fields: [{ name: 'raw', type: 'variant', nullable: true }] }, nullable: true }] }
  assert.throws(() => deltaToProtobuf(variant), (error: unknown) => error instanceof SluiceError && error.code === 'DELTA_UNSUPPORTED_FEATURE' && /Column "v\.raw" has Delta type "variant"/.test(error.message))
})

test('Avro: records written before a nullable column was added read back with it null', () => {
  const before = deltaToAvro(everyType)
  const after = deltaToAvro({ ...everyType, fields: [...everyType.fields, { name: 'discount', type: 'decimal(5,2)', nullable: true }] })
  const old = avroType(before).toBuffer(fullRow)
  const reader = avroType(after)
  const decoded = reader.fromBuffer(old, reader.createResolver(avroType(before))) as Record<string, unknown>
  assert.equal(decoded.discount, null)
  assert.equal(decoded.id, fullRow.id)
})
