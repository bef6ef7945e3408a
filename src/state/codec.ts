/**
 * How state values become bytes, for LMDB and for the changelog topic alike. Encoding happens
 * once per key per checkpoint (last write wins), not on every `set`.
 */
import { deserialize, serialize } from 'node:v8'

export interface StateCodec {
  /** Short name, stored with the store so that a store is never read with another codec. */
  readonly name: string
  encode(value: unknown): Buffer
  decode(bytes: Buffer): unknown
}

/**
 * JSON: portable and readable in the changelog topic by any tool. Numbers, strings, booleans,
 * null, arrays and plain objects; a bigint or `undefined` inside a value is an error.
 */
export const jsonCodec: StateCodec = {
  name: 'json',
  encode: (value) => Buffer.from(JSON.stringify(value), 'utf8'),
  decode: (bytes) => JSON.parse(bytes.toString('utf8')) as unknown,
}

/**
 * Node's structured clone format: also Map, Set, Date, bigint, typed arrays and `undefined`.
 * Read by the same or a newer Node only; choose it when values need those types.
 */
export const structuredCloneCodec: StateCodec = {
  name: 'structured-clone',
  encode: (value) => serialize(value),
  decode: (bytes) => deserialize(bytes) as unknown,
}
