/**
 * A Delta table schema with every type Sluice maps, as the Delta protocol serializes it, and rows
 * in the JS forms the serdes take (the Avro forms; Protobuf and JSON Schema differ where noted).
 */
import type { DeltaStructType } from '../../src/serialization/index.ts'

export const everyType: DeltaStructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: false, metadata: { comment: 'order id' } },
    { name: 'quantity', type: 'integer', nullable: false, metadata: {} },
    { name: 'small', type: 'short', nullable: true, metadata: {} },
    { name: 'tiny', type: 'byte', nullable: true, metadata: {} },
    { name: 'ratio', type: 'float', nullable: true, metadata: {} },
    { name: 'score', type: 'double', nullable: false, metadata: {} },
    { name: 'name', type: 'string', nullable: true, metadata: {} },
    { name: 'active', type: 'boolean', nullable: false, metadata: {} },
    { name: 'payload', type: 'binary', nullable: true, metadata: {} },
    { name: 'price', type: 'decimal(12,2)', nullable: true, metadata: {} },
    { name: 'created_at', type: 'timestamp', nullable: true, metadata: {} },
    { name: 'local_at', type: 'timestamp_ntz', nullable: true, metadata: {} },
    { name: 'day', type: 'date', nullable: true, metadata: {} },
    {
      name: 'address',
      type: { type: 'struct', fields: [{ name: 'city', type: 'string', nullable: false, metadata: {} }, { name: 'zip', type: 'integer', nullable: true, metadata: {} }] },
      nullable: true,
      metadata: {},
    },
    { name: 'tags', type: { type: 'array', elementType: 'string', containsNull: false }, nullable: true, metadata: {} },
    { name: 'counts', type: { type: 'map', keyType: 'string', valueType: 'long', valueContainsNull: false }, nullable: true, metadata: {} },
    { name: 'by_day', type: { type: 'map', keyType: 'date', valueType: 'double', valueContainsNull: true }, nullable: true, metadata: {} },
    {
      name: 'lines',
      type: { type: 'array', elementType: { type: 'struct', fields: [{ name: 'sku', type: 'string', nullable: false, metadata: {} }, { name: 'amount', type: 'decimal(10,3)', nullable: false, metadata: {} }] }, containsNull: false },
      nullable: false,
      metadata: {},
    },
  ],
}

/** One row with every field set, in the Avro serde's natural JS forms. */
export const fullRow = {
  id: 9_007_199_254_740_993n, // past 2^53: only a bigint holds it exactly
  quantity: -7,
  small: 32_000,
  tiny: -128,
  ratio: 0.5,
  score: 3.141592653589793,
  name: 'Zoë ☕',
  active: true,
  payload: Buffer.from([0, 1, 2, 255]),
  price: '-1234567890.05',
  created_at: new Date('2024-02-29T23:59:58.123Z'),
  local_at: new Date('2024-03-01T08:00:00.000Z'),
  day: new Date('1969-12-31T00:00:00.000Z'),
  address: { city: 'Oslo', zip: null },
  tags: ['a', 'b'],
  counts: { x: 1n, y: -2n },
  by_day: [{ key: new Date('2024-01-01T00:00:00Z'), value: 1.5 }, { key: new Date('2024-01-02T00:00:00Z'), value: null }],
  lines: [{ sku: 'A-1', amount: '0.125' }],
}

/** Every nullable field null. */
export const sparseRow = {
  ...Object.fromEntries(Object.keys(fullRow).map((key) => [key, null])),
  id: 1n,
  quantity: 0,
  score: 0,
  active: false,
  lines: [],
}

/** avsc reads records as instances of generated classes; compare them as plain objects. */
export function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain)
  if (value === null || typeof value !== 'object' || value instanceof Date || Buffer.isBuffer(value)) return value
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, plain(field)]))
}
