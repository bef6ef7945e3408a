/**
 * Benchmark messages: key `k` + the message's index in 9 zero-padded digits (10 bytes), so that a
 * consumer can tell which message it got; value a fixed pseudo-random printable payload.
 * {@link DeliveryCheck} proves on the consumer side that every produced message arrived exactly once.
 */

export const KEY_BYTES = 10
const MAX_INDEX = 999_999_999

export function messageKey(index: number): Buffer {
  if (!Number.isInteger(index) || index < 0 || index > MAX_INDEX) throw new RangeError(`message index out of range: ${index}`)
  return Buffer.from(`k${String(index).padStart(KEY_BYTES - 1, '0')}`, 'latin1')
}

/** The index in a key made by {@link messageKey}; -1 when the key is not one. */
export function messageIndex(key: Buffer | null | undefined): number {
  if (key?.length !== KEY_BYTES || key[0] !== 0x6b) return -1
  let index = 0
  for (let i = 1; i < KEY_BYTES; i++) {
    const digit = (key[i] ?? 0) - 0x30
    if (digit < 0 || digit > 9) return -1
    index = index * 10 + digit
  }
  return index
}

/** A value of `bytes` printable characters, the same for every call with the same size (seeded). */
export function messageValue(bytes: number): Buffer {
  const value = Buffer.alloc(bytes)
  let state = 0x2545f491
  for (let i = 0; i < bytes; i++) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    value[i] = 0x21 + ((state >>> 0) % 94)
  }
  return value
}

/**
 * Consumer-side proof that a run delivered each of `total` messages exactly once: every key index
 * seen once, every value of the expected size, and each partition's offsets contiguous from 0.
 */
export class DeliveryCheck {
  readonly total: number
  readonly valueBytes: number
  #received = 0
  readonly #seen: Uint8Array
  readonly #nextOffset: number[]
  #problem: string | undefined

  constructor(total: number, partitions: number, valueBytes: number) {
    this.total = total
    this.valueBytes = valueBytes
    this.#seen = new Uint8Array(total)
    this.#nextOffset = new Array<number>(partitions).fill(0)
  }

  get received(): number {
    return this.#received
  }

  /** The first thing found wrong, if any. */
  get problem(): string | undefined {
    return this.#problem
  }

  get complete(): boolean {
    return this.#received === this.total && this.#problem === undefined
  }

  /** Records one message; returns false (and keeps the first problem) when it is wrong. */
  record(partition: number, offset: number, key: Buffer | null | undefined, valueLength: number): boolean {
    this.#received++
    const expected = this.#nextOffset[partition]
    if (expected === undefined) return this.#fail(`message from unexpected partition ${partition}`)
    if (offset !== expected) {
      return this.#fail(`partition ${partition}: offset ${offset} where ${expected} was next (${offset < expected ? 'duplicate' : 'gap'})`)
    }
    this.#nextOffset[partition] = offset + 1
    const index = messageIndex(key)
    if (index < 0 || index >= this.total) return this.#fail(`partition ${partition} offset ${offset}: key is not one of this run's`)
    if (this.#seen[index] === 1) return this.#fail(`message ${index} delivered twice`)
    this.#seen[index] = 1
    if (valueLength !== this.valueBytes) return this.#fail(`message ${index}: value of ${valueLength} bytes, expected ${this.valueBytes}`)
    return true
  }

  /** Messages consumed per partition (= the next offset, offsets being contiguous from 0). */
  perPartition(): number[] {
    return [...this.#nextOffset]
  }

  /** Throws unless exactly `total` messages arrived, each once, and each partition ends at `endOffsets`. */
  assertComplete(endOffsets: readonly number[]): void {
    if (this.#problem !== undefined) throw new Error(`delivery check failed: ${this.#problem}`)
    if (this.#received !== this.total) throw new Error(`delivery check failed: ${this.#received} messages consumed, ${this.total} produced`)
    const missing = this.#seen.indexOf(0)
    if (missing >= 0) throw new Error(`delivery check failed: message ${missing} never arrived`)
    const consumed = this.perPartition()
    if (endOffsets.length !== consumed.length || endOffsets.some((end, p) => end !== consumed[p])) {
      throw new Error(`delivery check failed: consumed per partition ${consumed.join(',')} but the log ends at ${endOffsets.join(',')}`)
    }
  }

  #fail(problem: string): false {
    this.#problem ??= problem
    return false
  }
}
