/**
 * Opens and closes the state stores of an application: one LMDB environment per (store, topic
 * partition) under `<stateDir>/<applicationId>/<storeName>/<topic>-<partition>/`.
 *
 * A store's folder is trusted only when it is whole. Its marker file (`sluice-store.json`) is
 * written last when a store is created and removed first when one is wiped, so a folder without
 * it was left half-made. The marker also says whether the store was closed cleanly; after a crash
 * every page is read once before the store is used. A store that fails any check is wiped and
 * starts empty (`rebuiltBecause` says why), to be restored from its changelog from offset 0.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { open, type Database, type RootDatabase } from 'lmdb'
import { SluiceError } from '../errors.ts'
import { jsonCodec, type StateCodec } from './codec.ts'
import { PartitionStore } from './partition-store.ts'

export interface StateStoreManagerOptions {
  /** The folder holding all state, e.g. `./state`. Created if missing. */
  stateDir: string
  /** Stores of different applications never mix: each has its own sub-folder. */
  applicationId: string
  /** How values are encoded (in LMDB and in changelog records). Default JSON. */
  codec?: StateCodec
  /** Receives one line per store wiped for rebuild (a pino logger fits). */
  logger?: { warn(message: string): void }
}

export interface OpenPartitionOptions {
  /** Overrides the manager's codec for this store. */
  codec?: StateCodec
}

const FORMAT_VERSION = 1
const MARKER_FILE = 'sluice-store.json'
const DATA_FILE = 'data.mdb'
const FORMAT_KEY = Buffer.from('format')
/** Names become folder names: the characters Kafka allows in topic names. */
const SAFE_NAME = /^[A-Za-z0-9._-]{1,200}$/

interface Marker {
  format: number
  applicationId: string
  storeName: string
  topic: string
  partition: number
  codec: string
  /** True while a process has the store open; still true after a crash. */
  open: boolean
}

interface Environment {
  root: RootDatabase<Buffer, Buffer>
  data: Database<Buffer, Buffer>
  meta: Database<Buffer, Buffer>
}

export class StateStoreManager {
  readonly stateDir: string
  readonly applicationId: string
  readonly #codec: StateCodec
  readonly #logger: { warn(message: string): void } | undefined
  readonly #open = new Map<string, { store: PartitionStore; environment: Environment; marker: Marker; directory: string }>()

  constructor(options: StateStoreManagerOptions) {
    checkName('applicationId', options.applicationId)
    this.stateDir = options.stateDir
    this.applicationId = options.applicationId
    this.#codec = options.codec ?? jsonCodec
    this.#logger = options.logger
  }

  /** The folder of one store partition. */
  directoryOf(storeName: string, topic: string, partition: number): string {
    return join(this.stateDir, this.applicationId, storeName, `${topic}-${partition}`)
  }

  /** Opens (or returns the already open) store of `storeName` for one topic partition. */
  openPartition(storeName: string, topic: string, partition: number, options: OpenPartitionOptions = {}): PartitionStore {
    checkName('storeName', storeName)
    checkName('topic', topic)
    if (!Number.isInteger(partition) || partition < 0) throw new TypeError(`partition must be an integer >= 0, got ${partition}`)
    const id = `${storeName}\u0000${topic}\u0000${partition}`
    const already = this.#open.get(id)
    if (already !== undefined) return already.store
    const codec = options.codec ?? this.#codec
    const directory = this.directoryOf(storeName, topic, partition)
    const expected: Marker = { format: FORMAT_VERSION, applicationId: this.applicationId, storeName, topic, partition, codec: codec.name, open: true }

    let rebuiltBecause: string | undefined
    let environment: Environment | undefined
    if (existsSync(directory)) {
      const checked = openExisting(directory, expected)
      if (typeof checked === 'string') rebuiltBecause = checked
      else environment = checked
    }
    if (environment === undefined) {
      if (rebuiltBecause !== undefined) {
        this.#logger?.warn(`State store "${storeName}" (${topic}-${partition}) at ${directory} is wiped and will be rebuilt from its changelog: ${rebuiltBecause}`)
        wipe(directory)
      }
      environment = createFresh(directory, expected)
    }
    writeMarker(directory, expected)
    const store = new PartitionStore({ storeName, topic, partition, directory, codec, rebuiltBecause, ...environment })
    this.#open.set(id, { store, environment, marker: expected, directory })
    return store
  }

  /** Closes one store partition (on revocation); pending writes are dropped. */
  closePartition(storeName: string, topic: string, partition: number): void {
    const id = `${storeName}\u0000${topic}\u0000${partition}`
    const entry = this.#open.get(id)
    if (entry === undefined) return
    this.#open.delete(id)
    entry.store.closeStore()
    entry.environment.root.close().catch(() => undefined)
    writeMarker(entry.directory, { ...entry.marker, open: false })
  }

  /** Closes every store of one topic partition (all store names). */
  closeTopicPartition(topic: string, partition: number): void {
    for (const { store } of [...this.#open.values()]) {
      if (store.topic === topic && store.partition === partition) this.closePartition(store.storeName, topic, partition)
    }
  }

  /** The stores open now. */
  openStores(): PartitionStore[] {
    return [...this.#open.values()].map((entry) => entry.store)
  }

  close(): void {
    for (const { store } of [...this.#open.values()]) this.closePartition(store.storeName, store.topic, store.partition)
  }
}

/** The environment of a store folder that passes every check, or why it does not. */
function openExisting(directory: string, expected: Marker): Environment | string {
  const markerPath = join(directory, MARKER_FILE)
  if (!existsSync(markerPath)) return 'its marker file is missing (the store was being created or wiped when the process stopped)'
  let marker: Marker
  try {
    marker = JSON.parse(readFileSync(markerPath, 'utf8')) as Marker
  } catch {
    return 'its marker file is unreadable'
  }
  if (marker.format !== expected.format) return `it has format ${marker.format}, this version uses ${expected.format}`
  if (marker.codec !== expected.codec) return `it was written with the ${marker.codec} codec, the store now uses ${expected.codec}`
  const dataPath = join(directory, DATA_FILE)
  if (!existsSync(dataPath)) return 'its data file is missing'
  const header = checkHeader(dataPath)
  if (header !== undefined) return `its data file ${header}`
  let environment: Environment | undefined
  try {
    // Checked before any page is read: reading a page past the end of a memory-mapped file kills the process.
    environment = openEnvironment(directory, (root) => {
      const stats = root.getStats() as { pageSize: number; lastPageNumber: number }
      const needed = (stats.lastPageNumber + 1) * stats.pageSize
      const size = statSync(dataPath).size
      if (size < needed) throw new Error(`data file is truncated (${size} bytes, its pages need ${needed})`)
    })
    const format = environment.meta.get(FORMAT_KEY)
    if (format === undefined || Number(format.toString('utf8')) !== FORMAT_VERSION) throw new Error('format record missing or wrong')
    if (marker.open) readEveryPage(environment)
    return environment
  } catch (error) {
    environment?.root.close().catch(() => undefined)
    return `${marker.open ? 'it was open when the process stopped and ' : ''}its data is unreadable (${error instanceof Error ? error.message : String(error)})`
  }
}

function createFresh(directory: string, marker: Marker): Environment {
  try {
    mkdirSync(directory, { recursive: true })
    const environment = openEnvironment(directory)
    environment.root.transactionSync(() => environment.meta.putSync(FORMAT_KEY, Buffer.from(String(FORMAT_VERSION))))
    return environment
  } catch (error) {
    throw new SluiceError('STATE_STORE', `Creating state store "${marker.storeName}" (${marker.topic}-${marker.partition}) in ${directory} failed`, {
      fix: 'Check that the state folder (stateDir) exists or can be created and is writable, and that the disk has space.',
      cause: error,
    })
  }
}

function openEnvironment(directory: string, check?: (root: RootDatabase<Buffer, Buffer>) => void): Environment {
  const root = open<Buffer, Buffer>({ path: join(directory, DATA_FILE), keyEncoding: 'binary', encoding: 'binary', maxDbs: 2, compression: false, cache: false })
  try {
    check?.(root)
  } catch (error) {
    root.close().catch(() => undefined)
    throw error
  }
  return {
    root,
    data: root.openDB<Buffer, Buffer>({ name: 'data', keyEncoding: 'binary', encoding: 'binary', cache: false }),
    meta: root.openDB<Buffer, Buffer>({ name: 'meta', keyEncoding: 'binary', encoding: 'binary', cache: false }),
  }
}

/** Where LMDB's meta pages hold their magic number (after the page header) and the data format version. */
const LMDB_MAGIC_OFFSET = 0x18
const LMDB_MAGIC = 0xbeefc0de
const LMDB_DATA_VERSION = 2
const PAGE_SIZES = [4096, 8192, 16384, 32768, 65536]

/**
 * LMDB trusts its file: opening one whose meta pages are garbage crashes the process. So both
 * meta pages (page 0, and page 1 at the page size) must carry LMDB's magic number first.
 * Returns what is wrong, or undefined.
 */
function checkHeader(dataPath: string): string | undefined {
  const descriptor = openSync(dataPath, 'r')
  try {
    const head = Buffer.alloc(LMDB_MAGIC_OFFSET + 8)
    if (readSync(descriptor, head, 0, head.length, 0) < head.length) return 'is too short to be an LMDB file'
    if (head.readUInt32LE(LMDB_MAGIC_OFFSET) !== LMDB_MAGIC || head.readUInt32LE(LMDB_MAGIC_OFFSET + 4) !== LMDB_DATA_VERSION) return 'has no LMDB header (unreadable)'
    const magic = Buffer.alloc(4)
    const secondMeta = PAGE_SIZES.some((pageSize) => readSync(descriptor, magic, 0, 4, pageSize + LMDB_MAGIC_OFFSET) === 4 && magic.readUInt32LE(0) === LMDB_MAGIC)
    return secondMeta ? undefined : 'has a damaged second meta page (unreadable)'
  } finally {
    closeSync(descriptor)
  }
}

/** Reads every entry once, so that a damaged page shows as an error now rather than mid-processing. */
function readEveryPage(environment: Environment): void {
  for (const database of [environment.meta, environment.data]) {
    for (const entry of database.getRange({})) if (entry.value === undefined) throw new Error('entry without value')
  }
}

function wipe(directory: string): void {
  rmSync(join(directory, MARKER_FILE), { force: true })
  rmSync(directory, { recursive: true, force: true })
}

/** Written to a temporary file and renamed, so a reader sees the old or the new marker, never half of one. */
function writeMarker(directory: string, marker: Marker): void {
  const path = join(directory, MARKER_FILE)
  writeFileSync(`${path}.tmp`, `${JSON.stringify(marker, null, 2)}\n`)
  renameSync(`${path}.tmp`, path)
}

function checkName(what: string, name: string): void {
  if (!SAFE_NAME.test(name)) {
    throw new SluiceError('STATE_STORE', `${what} "${name}" cannot name a state folder`, {
      fix: `Use 1 to 200 of the characters A-Z a-z 0-9 . _ - in ${what}.`,
    })
  }
}
