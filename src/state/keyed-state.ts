/**
 * State scoped by message key, as stateful steps see it (Quix Streams' model): within the record
 * of key K, `state.get('total')` reads K's 'total'. One view is reused for every record; `at()`
 * points it at the current record's key.
 */
import { defaultKeyCodec, type KeyCodec } from './key-codec.ts'
import type { PartitionStore } from './partition-store.ts'

/** First byte of every key-scoped state key (other users of a store use other first bytes). */
export const KEYED_STATE_NAMESPACE = 0x4b

export class KeyedState<K = unknown> {
  readonly #store: PartitionStore
  readonly #keyCodec: KeyCodec<K>
  #prefix: Buffer

  constructor(store: PartitionStore, keyCodec: KeyCodec<K> = defaultKeyCodec as KeyCodec<K>) {
    this.#store = store
    this.#keyCodec = keyCodec
    this.#prefix = keyPrefix(keyCodec.encode(null as K))
  }

  /** Points this view at the state of one message key (null: records without a key). */
  at(messageKey: K): this {
    this.#prefix = keyPrefix(this.#keyCodec.encode(messageKey))
    return this
  }

  get<T = unknown>(name: string): T | undefined
  get<T>(name: string, defaultValue: T): T
  get<T>(name: string, defaultValue?: T): T | undefined {
    const value = this.#store.get<T>(this.#key(name))
    return value === undefined ? defaultValue : value
  }

  set(name: string, value: unknown): void {
    this.#store.set(this.#key(name), value)
  }

  delete(name: string): void {
    this.#store.delete(this.#key(name))
  }

  has(name: string): boolean {
    return this.#store.has(this.#key(name))
  }

  #key(name: string): Buffer {
    const nameLength = Buffer.byteLength(name, 'utf8')
    const key = Buffer.allocUnsafe(this.#prefix.length + nameLength)
    this.#prefix.copy(key, 0)
    key.write(name, this.#prefix.length, 'utf8')
    return key
  }
}

/** Namespace byte, the encoded key's length (4 bytes) and the encoded key: no key is a prefix of another's. */
function keyPrefix(bytes: Buffer): Buffer {
  const prefix = Buffer.allocUnsafe(5 + bytes.length)
  prefix[0] = KEYED_STATE_NAMESPACE
  prefix.writeUInt32BE(bytes.length, 1)
  bytes.copy(prefix, 5)
  return prefix
}
