/**
 * The Databricks (Delta Lake) source, read straight from the table's storage through the Delta
 * kernel: the table's snapshot at a start version, then every later commit's change data feed,
 * polled. Offset = (phase, table version, row index within it), so a restart resumes at the row
 * after the last committed one, in the middle of a snapshot or of a commit.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { DatabricksClient } from '../databricks/index.ts'
import { DeltaTable, type ChangeRow, type DeltaRow, type OpenOptions } from '../delta/index.ts'
import { SluiceError } from '../errors.ts'
import type { OutgoingMessage } from '../kafka/index.ts'
import type { SchemaRegistryClient } from '../serialization/index.ts'
import type { Source, SourceBatch } from './source.ts'
import { toJson } from './json.ts'
import { rowSerializer, type RowSerializer, type SchemaFormat } from './schema-values.ts'
import { isUnityCatalogName, unityCatalogTable } from './unity-catalog-table.ts'

/** `snapshot`: row `index` of the table at `version`; `changes`: row `index` of the change feed of commit `version`. */
export type DeltaOffset = { phase: 'snapshot' | 'changes'; version: number; index: number }

export interface DeltaSourceOptions {
  /** Names the source's offsets. Default `delta-<topic>`. */
  name?: string
  /**
   * The table: a path, a `file://`, `s3://`, `abfss://` or `gs://` URI, or with `databricks` a
   * Unity Catalog name `catalog.schema.table` (its location and vended credentials are looked up).
   */
  table: string
  /** The workspace that resolves Unity Catalog names. */
  databricks?: DatabricksClient
  /** Storage options for the table's URI scheme (credentials, region, endpoint). */
  storage?: OpenOptions['storage']
  /** The Kafka topic the rows go to; created with `partitions` when missing. */
  topic: string
  partitions?: number
  /**
   * The version to start at, on first start: its snapshot is published first (unless `snapshot`
   * is false), then the changes of every later commit. Default: the latest version.
   */
  startVersion?: number
  /** Publish the start version's rows before its changes. Default true. */
  snapshot?: boolean
  /** Columns whose values form the message key (so that all changes of a row stay in order on one partition). Default: no key. */
  keyColumns?: readonly string[]
  /**
   * `row`: the value is the row itself, the change type, commit version and timestamp in headers.
   * `envelope`: a Debezium-style change event `{ before, after, op, source, ts_ms }`.
   */
  format?: 'row' | 'envelope'
  /**
   * The value's serialization: `json` (default), or a schema format derived from the table's schema
   * — `avro`, `protobuf`, `json-schema` — registered in `registry` under `<topic>-value` and evolved
   * with the table (row format only).
   */
  valueFormat?: 'json' | SchemaFormat
  /** The Schema Registry for schema formats. */
  registry?: SchemaRegistryClient
  /** Deletes as tombstones (null values) for compacted topics. Default false. */
  deletesAsTombstones?: boolean
  /** How often to look for new commits, ms. Default 1000. */
  pollIntervalMs?: number
  /** Reports snapshot progress (rows published of the snapshot's row count, when the table's statistics give it). */
  onProgress?: (progress: { phase: 'snapshot'; version: number; rows: number; totalRows: number | undefined }) => void
}

/** Debezium's operation codes: create, update, delete, read (a snapshot row). */
type Operation = 'c' | 'u' | 'd' | 'r'

export function deltaSource(options: DeltaSourceOptions): Source<DeltaOffset> {
  const name = options.name ?? `delta-${options.topic}`
  return {
    name,
    topics: [{ name: options.topic, partitions: options.partitions ?? 1 }],
    read: (offset, signal) => readTable(options, offset, signal),
  }
}

async function* readTable(options: DeltaSourceOptions, committed: DeltaOffset | undefined, signal: AbortSignal): AsyncGenerator<SourceBatch<DeltaOffset>> {
  const table = await openTable(options)
  const values = new ValueSerialization(options)
  const encode = recordEncoder(options, values)
  let offset = committed ?? (await startOffset(table, options))
  if (offset.phase === 'snapshot') {
    const snapshot = await table.snapshot({ version: offset.version })
    await values.useSchema(snapshot.metadata.schemaString)
    const totalRows = snapshot.numRecords
    for await (const batch of snapshot.scan().indexedBatches(offset.index)) {
      const readAt = Date.now()
      const records = batch.rows.map((row) => encode(row, 'r', snapshot.version, readAt))
      offset = { phase: 'snapshot', version: snapshot.version, index: batch.startIndex + batch.rows.length }
      options.onProgress?.({ phase: 'snapshot', version: snapshot.version, rows: offset.index, totalRows })
      yield { records, offset }
      if (signal.aborted) return
    }
    offset = { phase: 'changes', version: snapshot.version + 1, index: 0 }
    yield { records: [], offset }
  }
  while (!signal.aborted) {
    let caughtUp = true
    let current = offset
    for await (const batch of table.changesSince(offset.version, { startIndex: offset.index })) {
      // A schema format follows the table's schema commit by commit (a schema change is a commit).
      if (values.needsSchema && batch.version !== values.schemaVersion) await values.useSchema((await table.snapshot({ version: batch.version })).metadata.schemaString, batch.version)
      current = { phase: 'changes', version: batch.version, index: batch.startIndex + batch.rows.length }
      yield { records: encodeChanges(batch.rows, encode, options.format ?? 'row', options.keyColumns), offset: current }
      caughtUp = false
      if (signal.aborted) return
    }
    // The versions read are complete: the next poll starts at the following version.
    if (!caughtUp) {
      offset = { phase: 'changes', version: current.version + 1, index: 0 }
      yield { records: [], offset }
    }
    await sleep(options.pollIntervalMs ?? 1000, undefined, { signal }).catch(() => undefined)
  }
}

/** The value format of a source: JSON, or a schema format that follows the table's schema. */
class ValueSerialization {
  readonly #options: DeltaSourceOptions
  #serializer: RowSerializer | undefined
  schemaVersion: number | undefined

  constructor(options: DeltaSourceOptions) {
    this.#options = options
    const format = options.valueFormat ?? 'json'
    if (format !== 'json' && (options.format ?? 'row') !== 'row') {
      throw new SluiceError('APP_CONFIG', `The Delta source for "${options.topic}" has valueFormat '${format}' with format 'envelope'`, {
        fix: "Use format: 'row' with a schema format (the envelope is JSON only for now), or valueFormat: 'json'.",
      })
    }
  }

  get needsSchema(): boolean {
    return (this.#options.valueFormat ?? 'json') !== 'json'
  }

  async useSchema(schemaString: string, version?: number): Promise<void> {
    this.schemaVersion = version
    const format = this.#options.valueFormat ?? 'json'
    if (format === 'json' || this.#serializer?.schemaString === schemaString) return
    this.#serializer = await rowSerializer(format, schemaString, this.#options.topic, recordNameOf(this.#options.topic), this.#options.registry)
  }

  serialize(row: DeltaRow): Buffer {
    if (this.#serializer === undefined) return Buffer.from(toJson(row))
    return this.#serializer.serialize(row, { topic: this.#options.topic, isKey: false })
  }
}

/** An Avro/Protobuf record name from the topic name (letters, digits and underscores, not starting with a digit). */
function recordNameOf(topic: string): string {
  const name = topic.replace(/[^A-Za-z0-9_]/g, '_')
  return /^[A-Za-z_]/.test(name) ? name : `T_${name}`
}

async function openTable(options: DeltaSourceOptions): Promise<DeltaTable> {
  if (options.databricks !== undefined && isUnityCatalogName(options.table)) {
    const { uri, storage } = await unityCatalogTable(options.databricks, options.table, options.storage)
    return DeltaTable.open(uri, { storage })
  }
  return DeltaTable.open(options.table, options.storage === undefined ? {} : { storage: options.storage })
}

async function startOffset(table: DeltaTable, options: DeltaSourceOptions): Promise<DeltaOffset> {
  const version = options.startVersion ?? (await table.latestVersion())
  return options.snapshot === false ? { phase: 'changes', version: version + 1, index: 0 } : { phase: 'snapshot', version, index: 0 }
}

type Encoder = (row: DeltaRow, op: Operation, version: number, commitTimestamp: number, before?: DeltaRow) => OutgoingMessage

/**
 * Turns the change rows of one batch into records. An update's pre-image is not a record of its
 * own: in `envelope` format it becomes the `before` of its post-image (matched by key columns
 * within the commit), in `row` format it is left out (the post-image is the row's new state).
 */
function encodeChanges(rows: readonly ChangeRow[], encode: Encoder, format: 'row' | 'envelope', keyColumns: readonly string[] | undefined): OutgoingMessage[] {
  const preimages = new Map<string, DeltaRow>()
  if (format === 'envelope' && keyColumns !== undefined) {
    for (const row of rows) if (row._change_type === 'update_preimage') preimages.set(keyOf(row, keyColumns), tableColumns(row))
  }
  const records: OutgoingMessage[] = []
  for (const row of rows) {
    const version = Number(row._commit_version)
    const timestamp = Date.parse(row._commit_timestamp)
    const columns = tableColumns(row)
    switch (row._change_type) {
      case 'insert':
        records.push(encode(columns, 'c', version, timestamp))
        break
      case 'update_postimage':
        records.push(encode(columns, 'u', version, timestamp, keyColumns === undefined ? undefined : preimages.get(keyOf(row, keyColumns))))
        break
      case 'delete':
        records.push(encode(columns, 'd', version, timestamp))
        break
      case 'update_preimage':
        break
    }
  }
  return records
}

const CHANGE_TYPE: Record<Operation, string> = { c: 'insert', u: 'update_postimage', d: 'delete', r: 'snapshot' }

function recordEncoder(options: DeltaSourceOptions, values: ValueSerialization): Encoder {
  const keyColumns = options.keyColumns
  const format = options.format ?? 'row'
  // The headers of a change type in a commit are the same for all its rows: one Map, shared (records are not changed after this).
  let headerCache = { version: -1, commitTimestamp: -1, byOperation: new Map<Operation, Map<string, Buffer>>() }
  const headersOf = (op: Operation, version: number, commitTimestamp: number) => {
    if (headerCache.version !== version || headerCache.commitTimestamp !== commitTimestamp) headerCache = { version, commitTimestamp, byOperation: new Map() }
    let headers = headerCache.byOperation.get(op)
    if (headers === undefined) {
      headers = new Map([
        ['sluice.change_type', Buffer.from(CHANGE_TYPE[op])],
        ['sluice.commit_version', Buffer.from(String(version))],
        ['sluice.commit_timestamp', Buffer.from(new Date(commitTimestamp).toISOString())],
      ])
      headerCache.byOperation.set(op, headers)
    }
    return headers
  }
  return (row, op, version, commitTimestamp, before) => {
    const key = keyColumns === undefined ? null : Buffer.from(keyOf(row, keyColumns))
    const headers = headersOf(op, version, commitTimestamp)
    let value: Buffer | null
    if (op === 'd' && options.deletesAsTombstones === true) value = null
    else if (format === 'row') value = values.serialize(row)
    else {
      const event = {
        before: op === 'd' ? row : (before ?? null),
        after: op === 'd' ? null : row,
        op,
        source: { connector: 'sluice-delta', table: options.table, version, snapshot: op === 'r' },
        ts_ms: commitTimestamp,
      }
      value = Buffer.from(toJson(event))
    }
    return { topic: options.topic, key, value, headers, timestamp: commitTimestamp }
  }
}

/** The row without the change feed's own columns. */
function tableColumns(row: ChangeRow): DeltaRow {
  const columns: DeltaRow = { ...row }
  delete columns._change_type
  delete columns._commit_version
  delete columns._commit_timestamp
  return columns
}

/** The key of a row: the single key column's value as text, or a JSON object of several. */
function keyOf(row: DeltaRow, keyColumns: readonly string[]): string {
  for (const column of keyColumns) {
    if (!(column in row)) {
      throw new SluiceError('SOURCE_FAILED', `Key column "${column}" is not a column of the table`, { fix: `Set keyColumns to columns of the table: ${Object.keys(row).join(', ')}.` })
    }
  }
  if (keyColumns.length === 1) return String(jsonValue(row[keyColumns[0] as string]))
  return toJson(Object.fromEntries(keyColumns.map((column) => [column, row[column]])))
}

function jsonValue(value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value
}
