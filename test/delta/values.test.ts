/**
 * The documented value mapping at its edges: timestamps far from 1970 and before it, decimals of
 * every sign and scale, and the partition value encodings the protocol allows.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parsePartitionValue } from '../../src/delta/read/partition-values.ts'
import { formatDays, formatDecimal, formatMicros } from '../../src/delta/read/values.ts'

test('timestamps format like Date.toISOString with microseconds, also before 1970 and beyond 2^53 micros', () => {
  const cases: [bigint, string][] = [
    [0n, '1970-01-01T00:00:00.000000'],
    [-1n, '1969-12-31T23:59:59.999999'],
    [1_709_251_199_123_456n, '2024-02-29T23:59:59.123456'],
    [-62_135_596_800_000_000n, '0001-01-01T00:00:00.000000'],
    [253_402_300_799_999_999n, '9999-12-31T23:59:59.999999'],
  ]
  for (const [micros, text] of cases) assert.equal(formatMicros(micros), text)
  for (let i = 0; i < 2000; i++) {
    const millis = Math.floor((i / 2000 - 0.5) * 2 * 8.64e15 * 0.9)
    const extra = i % 1000
    const expected = `${new Date(millis).toISOString().slice(0, -1)}${String(extra).padStart(3, '0')}`
    assert.equal(formatMicros(BigInt(millis) * 1000n + BigInt(extra)), expected)
  }
})

test('dates: days since the epoch to YYYY-MM-DD', () => {
  for (const days of [-719_528, -25_567, -1, 0, 59, 11_016, 2_932_896]) {
    assert.equal(formatDays(days), new Date(days * 86_400_000).toISOString().slice(0, 10))
  }
})

test('decimals: exact strings with exactly the scale\'s digits, rescaled exactly when widened', () => {
  assert.equal(formatDecimal(-1250n, 2, 2), '-12.50')
  assert.equal(formatDecimal(5, 3, 3), '0.005')
  assert.equal(formatDecimal(-5, 3, 3), '-0.005')
  assert.equal(formatDecimal(0n, 0, 0), '0')
  assert.equal(formatDecimal(123n, 0, 0), '123')
  assert.equal(formatDecimal(-99_999_999_999_999_999_999_999_999_999_999_999_999n, 18, 18), '-99999999999999999999.999999999999999999')
  assert.equal(formatDecimal(1234n, 2, 4), '12.3400')
})

test('partition values: the protocol\'s encodings to the same values data columns get', () => {
  assert.equal(parsePartitionValue('', { type: 'string' }, 'c'), null)
  assert.equal(parsePartitionValue(null, { type: 'integer' }, 'c'), null)
  assert.equal(parsePartitionValue('9007199254740993', { type: 'long' }, 'c'), 9_007_199_254_740_993n)
  assert.equal(parsePartitionValue('-3', { type: 'short' }, 'c'), -3)
  assert.equal(parsePartitionValue('true', { type: 'boolean' }, 'c'), true)
  assert.equal(parsePartitionValue('2024-02-29', { type: 'date' }, 'c'), '2024-02-29')
  assert.equal(parsePartitionValue('1970-01-01 00:00:00', { type: 'timestamp' }, 'c'), '1970-01-01T00:00:00.000000Z')
  assert.equal(parsePartitionValue('1970-01-01 00:00:00.123456', { type: 'timestamp_ntz' }, 'c'), '1970-01-01T00:00:00.123456')
  assert.equal(parsePartitionValue('2024-01-01T01:00:00.5Z', { type: 'timestamp' }, 'c'), '2024-01-01T01:00:00.500000Z')
  assert.equal(parsePartitionValue('2024-01-01T01:00:00+01:00', { type: 'timestamp' }, 'c'), '2024-01-01T00:00:00.000000Z')
  assert.equal(parsePartitionValue('-1.5', { type: 'decimal', precision: 10, scale: 3 }, 'c'), '-1.500')
  assert.deepEqual(parsePartitionValue('\u0001\u0002', { type: 'binary' }, 'c'), Uint8Array.of(1, 2))
  assert.throws(() => parsePartitionValue('yesterday', { type: 'date' }, 'c'), { code: 'DELTA_PROTOCOL' })
})
