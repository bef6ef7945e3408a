import assert from 'node:assert/strict'
import { test } from 'node:test'
import { avroSerde, avroType, type SerdeValue } from '../../src/serialization/index.ts'
import { plain } from './delta-rows.ts'

const context = { topic: 'orders', isKey: false }

test('decimals keep every digit: negative, zero, tiny, 38 digits, on bytes and on fixed', () => {
  const bytesDecimal = avroType({ type: 'bytes', logicalType: 'decimal', precision: 38, scale: 4 })
  for (const text of ['0.0000', '-0.0001', '1.0000', '-1.0000', '123456789012.3456', '-99999999999999.9999', '1234567890123456789012345678901234.5678', '-1234567890123456789012345678901234.5678']) {
    assert.equal(bytesDecimal.fromBuffer(bytesDecimal.toBuffer(text)), text)
  }
  // Avro's encoding is the minimal big-endian two's complement of the unscaled value: -1 is ff, 128 is 0080.
  assert.equal(bytesDecimal.toBuffer('-0.0001').toString('hex'), '02ff')
  assert.equal(bytesDecimal.toBuffer('0.0128').toString('hex'), '040080')
  const fixedDecimal = avroType({ type: 'fixed', name: 'Money', size: 8, logicalType: 'decimal', precision: 18, scale: 2 })
  assert.equal(fixedDecimal.toBuffer('-1.00').toString('hex'), 'ffffffffffffff9c')
  assert.equal(fixedDecimal.fromBuffer(fixedDecimal.toBuffer('-1.5')), '-1.50')
  assert.throws(() => bytesDecimal.toBuffer('1.00001'), /"1.00001" has more than 4 fraction digits/)
  assert.throws(() => avroType({ type: 'bytes', logicalType: 'decimal', precision: 4, scale: 2 }).toBuffer('123.45'), /"123.45" has more than 4 digits/)
})

test('the record type is inferred from the schema literal, and reads give those JS types', () => {
  const serde = avroSerde({
    schema: {
      type: 'record',
      name: 'Order',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'note', type: ['null', 'string'], default: null },
        { name: 'price', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-micros' } },
        { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID'] } },
        { name: 'lines', type: { type: 'array', items: { type: 'record', name: 'Line', fields: [{ name: 'qty', type: 'int' }] } } },
      ],
    },
  })
  const order = { id: 7n, note: null, price: '9.99', at: new Date('2026-01-01T00:00:00Z'), status: 'PAID' as const, lines: [{ qty: 2 }] }
  const read = serde.deserialize(serde.serialize(order, context), context)
  // Compile-time: the inferred type is exactly this (tsc fails the build otherwise).
  const typed: { id: bigint; note: string | null; price: string; at: Date; status: 'NEW' | 'PAID'; lines: { qty: number }[] } = read
  const back: SerdeValue<typeof serde> = typed
  assert.deepEqual(plain(back), order)
  // @ts-expect-error the inferred type requires price; at run time the error names it
  assert.throws(() => serde.serialize({ ...order, price: undefined }, context), /field "price"/)
})
