import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { closeIndexKey, parseCloseIndexKey, startOfWindowKey, windowKey } from '../../src/windows/keys.ts'

describe('window keys', () => {
  test('byte order is time order, negative times and times beyond 32 bits included', () => {
    const key = Buffer.from('customer-1')
    const times = [-(2 ** 40), -1_000, -1, 0, 1, 2 ** 31, 2 ** 32 + 5, 1_700_000_000_000, Number.MAX_SAFE_INTEGER - 1]
    const keys = times.map((time) => windowKey(key, time))
    const sorted = [...keys].sort((a, b) => Buffer.compare(a, b))
    assert.deepEqual(sorted.map(startOfWindowKey), times)
  })

  test('a close index key gives back its close time, message key and window start', () => {
    const key = Buffer.from([0, 1, 2, 255])
    assert.deepEqual(parseCloseIndexKey(closeIndexKey(1_700_000_011_000, key, 1_700_000_000_000)), {
      closeAt: 1_700_000_011_000,
      key,
      start: 1_700_000_000_000,
    })
  })
})
