/**
 * The state of one store for one topic partition: an LMDB database, plus the writes of the
 * checkpoint in progress. Reads and writes are synchronous and see the checkpoint's own writes.
 *
 * A checkpoint goes:
 *   1. processing calls `set` / `delete` (staged in memory);
 *   2. `changelogRecords()` seals those writes and returns the records the checkpoint's Kafka
 *      transaction must carry to the changelog topic (writes made after this belong to the next
 *      checkpoint, so processing may go on while the transaction commits);
 *   3. after the Kafka transaction committed, `commit(offset)` writes the sealed writes and the
 *      changelog offset in one LMDB transaction; after an abort, `abort()` drops every write not
 *      yet committed, sealed or not, since the records that made them will be processed again.
 *
 * Invariant: the LMDB contents always equal the changelog applied up to some committed offset
 * N >= the stored `changelogOffset()`. Replaying changelog records after the stored offset is
 * therefore always safe (each record holds a key's whole value, so replaying ones already applied
 * changes nothing), and restore resumes at `changelogOffset() + 1`.
 */
import type { Database, RootDatabase } from 'lmdb'
import { SluiceError } from '../errors.ts'
import type { StateCodec } from './codec.ts'
import type { KeyCodec } from './key-codec.ts'
import { KeyedState } from './keyed-state.ts'
import { StagedWrites, type StagedWrite } from './staged-writes.ts'

/** A state key: bytes, or a string (its UTF-8 bytes). */
export type StateKey = Buffer | string

/** One record of a store's changelog topic: the key and its new value, or null for a delete. */
export interface ChangelogRecord {
  key: Buffer
  value: Buffer | null
}

/** A changelog record as read back from Kafka, with its offset. */
export interface RestoreRecord {
  key: Buffer | null
  value: Buffer | null
  offset: bigint
}

/** LMDB's largest key (its default build). */
export const MAX_KEY_BYTES = 1978

const OFFSET_KEY = Buffer.from('changelog-offset')

export interface PartitionStoreParts {
  storeName: string
  topic: string
  partition: number
  directory: string
  root: RootDatabase<Buffer, Buffer>
  data: Database<Buffer, Buffer>
  meta: Database<Buffer, Buffer>
  codec: StateCodec
  /** Why the store was wiped when it was opened (then it must be restored from offset 0). */
  rebuiltBecause: string | undefined
}

export class PartitionStore {
  readonly storeName: string
  readonly topic: string
  readonly partition: number
  /** The folder holding this store's LMDB files. */
  readonly directory: string
  /** Set when the local files were missing or unusable and the store started empty. */
  readonly rebuiltBecause: string | undefined
  readonly #root: RootDatabase<Buffer, Buffer>
  readonly #data: Database<Buffer, Buffer>
  readonly #meta: Database<Buffer, Buffer>
  readonly #codec: StateCodec
  /** Writes since the last seal. */
  #staged = new StagedWrites()
  /** Writes sealed by changelogRecords(), waiting for commit() or abort(). */
  #sealed: StagedWrites | undefined
  #offset: bigint | undefined
  #generation = 0
  #closed = false

  /** @internal Stores come from StateStoreManager.openPartition. */
  constructor(parts: PartitionStoreParts) {
    this.storeName = parts.storeName
    this.topic = parts.topic
    this.partition = parts.partition
    this.directory = parts.directory
    this.rebuiltBecause = parts.rebuiltBecause
    this.#root = parts.root
    this.#data = parts.data
    this.#meta = parts.meta
    this.#codec = parts.codec
    const stored = this.#meta.get(OFFSET_KEY)
    this.#offset = stored === undefined ? undefined : stored.readBigInt64BE(0)
  }

  /**
   * Changes whenever the store's contents change other than through set/delete: on abort() and
   * on restore. Holders of caches derived from the store compare it to know when to drop them.
   */
  get generation(): number {
    return this.#generation
  }

  /** Writes not yet committed to LMDB (staged and sealed). */
  get pendingWrites(): number {
    return this.#staged.size + (this.#sealed?.size ?? 0)
  }

  get<T = unknown>(key: StateKey): T | undefined {
    const bytes = toBytes(key)
    const write = this.#pending(bytes.toString('latin1'))
    if (write !== undefined) return write.deleted ? undefined : (write.value as T)
    return this.#decodeStored(bytes) as T | undefined
  }

  has(key: StateKey): boolean {
    const bytes = toBytes(key)
    const write = this.#pending(bytes.toString('latin1'))
    if (write !== undefined) return !write.deleted
    this.#assertOpen()
    return this.#data.doesExist(bytes)
  }

  /**
   * Sets `key` to `value` for this checkpoint. The value is encoded when the checkpoint's
   * changelog is built, so it must not be changed in place after this call unless set again.
   */
  set(key: StateKey, value: unknown): void {
    this.#assertOpen()
    if (value === undefined) {
      throw new SluiceError('STATE_STORE', `State store "${this.storeName}" (${this.topic}-${this.partition}): set() got undefined`, {
        fix: 'Use delete(key) to remove a value; store null to keep an explicit empty value.',
      })
    }
    const bytes = toBytes(key)
    checkKeySize(bytes, this.storeName)
    this.#staged.set(bytes.toString('latin1'), bytes, value)
  }

  delete(key: StateKey): void {
    this.#assertOpen()
    const bytes = toBytes(key)
    this.#staged.delete(bytes.toString('latin1'), bytes)
  }

  /**
   * Entries with `start <= key < end` in byte order, pending writes included, read lazily (stop
   * early for the first entries only). Writing to the store while iterating is allowed: the
   * iteration reads LMDB's last commit and the pending writes as they are when it reaches them.
   */
  *range(start: Buffer, end: Buffer): Generator<[Buffer, unknown]> {
    this.#assertOpen()
    const startId = start.toString('latin1')
    const endId = end.toString('latin1')
    const staged = this.#staged.range(startId, endId)
    const sealed = this.#sealed?.range(startId, endId)
    const stored = this.#data.getRange({ start, end })[Symbol.iterator]()
    let nextStaged = staged.next()
    let nextSealed = sealed?.next()
    let nextStored = stored.next()
    for (;;) {
      // The smallest key among the three sources; on equal keys staged wins over sealed over LMDB.
      const stagedWrite = nextStaged.done === true ? undefined : nextStaged.value
      const sealedWrite = nextSealed === undefined || nextSealed.done === true ? undefined : nextSealed.value
      const storedEntry = nextStored.done === true ? undefined : nextStored.value
      let pending: StagedWrite | undefined = stagedWrite
      if (sealedWrite !== undefined && (pending === undefined || sealedWrite.id < pending.id)) pending = sealedWrite
      if (pending === undefined && storedEntry === undefined) return
      const order = pending === undefined ? 1 : storedEntry === undefined ? -1 : Buffer.compare(pending.key, storedEntry.key)
      if (order > 0) {
        const entry = storedEntry as { key: Buffer; value: Buffer }
        nextStored = stored.next()
        yield [entry.key, this.#decode(entry.value, entry.key)]
        continue
      }
      const write = pending as StagedWrite
      if (stagedWrite !== undefined && stagedWrite.id === write.id) nextStaged = staged.next()
      if (sealedWrite !== undefined && sealedWrite.id === write.id) nextSealed = sealed?.next()
      if (order === 0) nextStored = stored.next()
      // The staged write wins when both layers hold the key.
      const winner = stagedWrite !== undefined && stagedWrite.id === write.id ? stagedWrite : write
      if (!winner.deleted) yield [winner.key, winner.value]
    }
  }

  /**
   * Seals the writes made so far and returns the changelog records for them: one per key
   * written (its last value, or a tombstone for a delete). Produce them to
   * `changelogTopicName(...)`, partition `this.partition`, in the checkpoint's Kafka transaction.
   */
  changelogRecords(): ChangelogRecord[] {
    this.#assertOpen()
    this.#seal()
    const records: ChangelogRecord[] = []
    for (const write of (this.#sealed as StagedWrites).values()) records.push({ key: write.key, value: this.#encoded(write) })
    return records
  }

  /**
   * Writes the sealed writes (all writes, when changelogRecords() was not called) and the
   * changelog offset in one LMDB transaction. Call it after the Kafka transaction committed.
   * `changelogOffset`: the offset of the last changelog record that transaction wrote to this
   * partition; leave it undefined when unknown or when it wrote none — the stored offset then
   * stays where it was, which is safe (restore replays a little more).
   */
  commit(changelogOffset?: bigint): void {
    this.#assertOpen()
    if (this.#sealed === undefined) this.#seal()
    const sealed = this.#sealed as StagedWrites
    const offset = changelogOffset !== undefined && (this.#offset === undefined || changelogOffset > this.#offset) ? changelogOffset : undefined
    if (sealed.size > 0 || offset !== undefined) {
      // Encode first: a value that cannot be encoded fails the commit before LMDB is touched.
      for (const write of sealed.values()) this.#encoded(write)
      try {
        this.#root.transactionSync(() => {
          for (const write of sealed.values()) {
            if (write.encoded == null) this.#data.removeSync(write.key)
            else this.#data.putSync(write.key, write.encoded)
          }
          if (offset !== undefined) this.#meta.putSync(OFFSET_KEY, offsetBytes(offset))
        })
      } catch (error) {
        throw new SluiceError('STATE_STORE', `Committing state store "${this.storeName}" (${this.topic}-${this.partition}) to ${this.directory} failed`, {
          fix: 'Check that the state folder is writable and the disk is not full; on restart the store catches up from its changelog.',
          cause: error,
        })
      }
    }
    if (offset !== undefined) this.#offset = offset
    this.#sealed = undefined
  }

  /** Drops every write not committed yet (after the Kafka transaction aborted). */
  abort(): void {
    this.#staged = new StagedWrites()
    this.#sealed = undefined
    this.#generation++
  }

  /**
   * Applies changelog records read back from Kafka (read_committed), in offset order, in one
   * LMDB transaction together with the new changelog offset. Records at or below the stored
   * offset are skipped. Returns how many were applied.
   */
  restoreFrom(records: Iterable<RestoreRecord>): number {
    this.#assertOpen()
    if (this.pendingWrites > 0) {
      throw new SluiceError('STATE_RESTORE', `State store "${this.storeName}" (${this.topic}-${this.partition}) has uncommitted writes during restore`, {
        fix: 'Restore a store before processing records of its partition, or abort() the checkpoint first.',
      })
    }
    let applied = 0
    let last = this.#offset
    this.#root.transactionSync(() => {
      for (const record of records) {
        if (last !== undefined && record.offset <= last) continue
        last = record.offset
        if (record.key == null || record.key.length === 0) continue
        applied++
        // A tombstone (delete); some readers hand a missing value as undefined rather than null.
        if (record.value == null) this.#data.removeSync(record.key)
        else this.#data.putSync(record.key, record.value)
      }
      if (last !== undefined && last !== this.#offset) this.#meta.putSync(OFFSET_KEY, offsetBytes(last))
    })
    this.#offset = last
    this.#generation++
    return applied
  }

  /** The offset of the last changelog record the LMDB contents include; undefined: none, restore from 0. */
  changelogOffset(): bigint | undefined {
    return this.#offset
  }

  /** A view of this store scoped by message key: `state.at(key).get('total')`. */
  keyedState<K = unknown>(keyCodec?: KeyCodec<K>): KeyedState<K> {
    return new KeyedState<K>(this, keyCodec)
  }

  /** Number of committed entries in LMDB (pending writes not counted). */
  committedEntryCount(): number {
    this.#assertOpen()
    return this.#data.getCount()
  }

  /** @internal Called by StateStoreManager.closePartition. */
  closeStore(): void {
    if (this.#closed) return
    this.#closed = true
    this.#staged.clear()
    this.#sealed = undefined
  }

  get closed(): boolean {
    return this.#closed
  }

  #pending(id: string): StagedWrite | undefined {
    return this.#staged.get(id) ?? this.#sealed?.get(id)
  }

  #seal(): void {
    if (this.#sealed === undefined) {
      this.#sealed = this.#staged
    } else {
      // Sealing twice before a commit: the later writes join the sealed ones (the newest value wins).
      for (const write of this.#staged.values()) {
        if (write.deleted) this.#sealed.delete(write.id, write.key)
        else this.#sealed.set(write.id, write.key, write.value)
      }
    }
    this.#staged = new StagedWrites()
  }

  #encoded(write: StagedWrite): Buffer | null {
    if (write.encoded === undefined) {
      if (write.deleted) {
        write.encoded = null
      } else {
        try {
          write.encoded = this.#codec.encode(write.value)
        } catch (error) {
          throw new SluiceError('STATE_STORE', `State store "${this.storeName}" cannot encode the value of key ${describeKey(write.key)} with the ${this.#codec.name} codec`, {
            fix: `Store values the ${this.#codec.name} codec can encode, or open the store with another codec (structuredCloneCodec handles bigint, Map, Set, Date).`,
            cause: error,
          })
        }
      }
    }
    return write.encoded
  }

  #decodeStored(bytes: Buffer): unknown {
    this.#assertOpen()
    const stored = this.#data.get(bytes)
    return stored === undefined ? undefined : this.#decode(stored, bytes)
  }

  #decode(stored: Buffer, key: Buffer): unknown {
    try {
      return this.#codec.decode(stored)
    } catch (error) {
      throw new SluiceError('STATE_STORE', `State store "${this.storeName}" (${this.topic}-${this.partition}) holds a value for key ${describeKey(key)} the ${this.#codec.name} codec cannot read`, {
        fix: `Delete the folder ${this.directory} to rebuild the store from its changelog, and keep the codec of a store unchanged.`,
        cause: error,
      })
    }
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new SluiceError('STATE_STORE', `State store "${this.storeName}" (${this.topic}-${this.partition}) is closed`, {
        fix: 'Its partition was revoked or the application stopped; use the store of a partition only while it is assigned.',
      })
    }
  }
}

function toBytes(key: StateKey): Buffer {
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : key
}

function checkKeySize(key: Buffer, storeName: string): void {
  if (key.length === 0 || key.length > MAX_KEY_BYTES) {
    throw new SluiceError('STATE_STORE', `State store "${storeName}": a key of ${key.length} bytes does not fit (1 to ${MAX_KEY_BYTES} bytes)`, {
      fix: 'Use shorter message keys or state names (a hash of a long key works).',
    })
  }
}

function offsetBytes(offset: bigint): Buffer {
  const bytes = Buffer.allocUnsafe(8)
  bytes.writeBigInt64BE(offset)
  return bytes
}

function describeKey(key: Buffer): string {
  const text = key.toString('utf8')
  return /^[\x20-\x7e]*$/.test(text) && text.length <= 80 ? `"${text}"` : `0x${key.subarray(0, 40).toString('hex')}${key.length > 40 ? '…' : ''}`
}
