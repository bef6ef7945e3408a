import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SluiceError } from '../../src/errors.ts'
import { normalizeHost } from '../../src/databricks/config.ts'
import { parseProfiles } from '../../src/databricks/profile-file.ts'
import { parseRetryAfter, retryDelayMs } from '../../src/databricks/retry.ts'
import { decimalString, fromJsonCell } from '../../src/databricks/sql-types.ts'

test('Retry-After as seconds or as an HTTP date', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0)
  assert.equal(parseRetryAfter('3', now), 3000)
  assert.equal(parseRetryAfter('0.5', now), 500)
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 12:00:07 GMT', now), 7000)
  assert.equal(parseRetryAfter('soon', now), undefined)
  assert.equal(parseRetryAfter(null, now), undefined)
})

test('backoff doubles per retry within jitter bounds, and Retry-After wins', () => {
  for (const [retry, low, high] of [[1, 50, 100], [2, 100, 200], [3, 200, 400], [12, 30_000, 60_000]] as const) {
    assert.equal(retryDelayMs(retry, 100, undefined, () => 0), low)
    assert.equal(retryDelayMs(retry, 100, undefined, () => 1), high)
  }
  assert.equal(retryDelayMs(5, 100, 2000, () => 0.5), 2000)
})

test('profiles: sections, comments, both separators; a bad line is reported by number, never by content', () => {
  const profiles = parseProfiles('# comment\n[DEFAULT]\nhost = https://a.cloud.databricks.com\n\n[dev]\ntoken: dapi123\nCLIENT_ID = x\n', 'cfg')
  assert.deepEqual(Object.fromEntries(profiles), { DEFAULT: { host: 'https://a.cloud.databricks.com' }, dev: { token: 'dapi123', client_id: 'x' } })
  assert.throws(() => parseProfiles('[DEFAULT]\ndapiSECRETLINE\n', 'cfg'), (error: unknown) =>
    error instanceof SluiceError && /Line 2 of the Databricks profile file cfg/.test(error.message) && !error.message.includes('dapiSECRETLINE'))
})

test('hosts get https:// when they have no scheme and lose trailing slashes', () => {
  assert.equal(normalizeHost('dbc-1.cloud.databricks.com/', 'x'), 'https://dbc-1.cloud.databricks.com')
  assert.equal(normalizeHost('http://127.0.0.1:8080', 'x'), 'http://127.0.0.1:8080')
})

test('decimals from Arrow words are exact, with sign and scale', () => {
  const words = (value: bigint) => {
    let bits = BigInt.asUintN(128, value)
    return Uint32Array.from({ length: 4 }, () => {
      const word = Number(bits & 0xffffffffn)
      bits >>= 32n
      return word
    })
  }
  assert.equal(decimalString(words(12345n), 2), '123.45')
  assert.equal(decimalString(words(-5n), 3), '-0.005')
  assert.equal(decimalString(words(10n ** 37n + 1n), 0), '10000000000000000000000000000000000001')
})

test('JSON_ARRAY cells: special doubles, booleans and nulls', () => {
  const column = (typeName: string) => ({ name: 'c', position: 0, typeName, typeText: typeName })
  assert.ok(Number.isNaN(fromJsonCell('NaN', column('DOUBLE'))))
  assert.equal(fromJsonCell('-Infinity', column('DOUBLE')), Number.NEGATIVE_INFINITY)
  assert.equal(fromJsonCell('false', column('BOOLEAN')), false)
  assert.equal(fromJsonCell(null, column('LONG')), null)
  assert.equal(fromJsonCell('P1D', column('INTERVAL')), 'P1D')
})
