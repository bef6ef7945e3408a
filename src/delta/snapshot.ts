/**
 * A snapshot: the table as of one version — its protocol, metadata, schema and live files — and
 * scans of its rows.
 */
import type { AddFile, Metadata, Protocol } from './log/actions.ts'
import type { TableState } from './log/replay.ts'
import { loadDeletionVector } from './read/deletion-vectors.ts'
import { batchRows, readFileColumns, type ColumnBatch, type ColumnPlan } from './read/file-reader.ts'
import { ParquetFile } from './read/parquet-file.ts'
import { parsePartitionValue } from './read/partition-values.ts'
import { tablePath } from './read/table-path.ts'
import type { DeltaRow } from './read/values.ts'
import { columnMappingMode, parseSchema, type ColumnMappingMode, type StructType } from './schema.ts'
import { SluiceError } from '../errors.ts'
import type { ObjectStore } from './storage/object-store.ts'

export interface ScanOptions {
  /** Columns to return, by (logical) name, in this order; all columns in schema order when absent. */
  columns?: readonly string[]
  /** Keeps only files whose typed partition values pass; rows of other files are never read. */
  partitionFilter?: (partitionValues: DeltaRow) => boolean
}

export class Snapshot {
  readonly version: number
  readonly protocol: Protocol
  readonly metadata: Metadata
  readonly schema: StructType
  readonly partitionColumns: readonly string[]
  readonly columnMapping: ColumnMappingMode
  /** The live files, in a stable order (by path). */
  readonly files: readonly AddFile[]
  private readonly store: ObjectStore

  constructor(store: ObjectStore, state: TableState) {
    this.store = store
    this.version = state.version
    this.protocol = state.protocol
    this.metadata = state.metadata
    this.schema = parseSchema(state.metadata.schemaString)
    this.partitionColumns = state.metadata.partitionColumns
    this.columnMapping = columnMappingMode(state.metadata.configuration)
    this.files = state.files
  }

  /** The table properties (`delta.*` and user properties). */
  get properties(): Readonly<Record<string, string>> {
    return this.metadata.configuration
  }

  /** The number of rows, from the files' statistics when every file has them, else undefined. */
  get numRecords(): number | undefined {
    let total = 0
    for (const file of this.files) {
      const stats = file.stats === undefined ? undefined : (JSON.parse(file.stats) as { numRecords?: number })
      if (stats?.numRecords === undefined) return undefined
      total += stats.numRecords - (file.deletionVector?.cardinality ?? 0)
    }
    return total
  }

  scan(options: ScanOptions = {}): SnapshotScan {
    return new SnapshotScan(this.store, this, columnPlan(this.schema, this.partitionColumns, this.columnMapping, options.columns), options.partitionFilter)
  }
}

/** Which columns a read returns and where each comes from. */
export function columnPlan(schema: StructType, partitionColumns: readonly string[], mode: ColumnMappingMode, columns?: readonly string[]): ColumnPlan {
  const partitions = new Set(partitionColumns)
  const byName = new Map(schema.fields.map((field) => [field.name, field]))
  const names = columns ?? schema.fields.map((field) => field.name)
  return {
    mode,
    columns: names.map((name) => {
      const field = byName.get(name)
      if (field === undefined) {
        throw new SluiceError('CONFIG_INVALID', `column "${name}" is not in the table schema (${schema.fields.map((f) => f.name).join(', ')})`, {
          fix: 'Ask for columns by their names in the table schema.',
        })
      }
      return { field, partition: partitions.has(name) }
    }),
  }
}

export class SnapshotScan {
  private readonly store: ObjectStore
  private readonly snapshot: Snapshot
  private readonly plan: ColumnPlan
  private readonly partitionFilter: ((values: DeltaRow) => boolean) | undefined

  constructor(store: ObjectStore, snapshot: Snapshot, plan: ColumnPlan, partitionFilter?: (values: DeltaRow) => boolean) {
    this.store = store
    this.snapshot = snapshot
    this.plan = plan
    this.partitionFilter = partitionFilter
  }

  /** The files the scan reads (after the partition filter). */
  files(): AddFile[] {
    const filter = this.partitionFilter
    if (filter === undefined) return [...this.snapshot.files]
    const fields = this.snapshot.schema.fields.filter((field) => this.snapshot.partitionColumns.includes(field.name))
    const partitionPlan = columnPlan(this.snapshot.schema, this.snapshot.partitionColumns, this.snapshot.columnMapping, fields.map((f) => f.name))
    return this.snapshot.files.filter((file) => {
      const values: DeltaRow = {}
      for (const { field } of partitionPlan.columns) {
        const physical = field.metadata['delta.columnMapping.physicalName']
        const key = this.snapshot.columnMapping !== 'none' && typeof physical === 'string' && physical in file.partitionValues ? physical : field.name
        values[field.name] = parsePartitionValue(file.partitionValues[key], field.type, field.name)
      }
      return filter(values)
    })
  }

  /** Rows in batches (up to 8192 rows, never spanning row groups or files), files in the snapshot's order. */
  async *batches(): AsyncGenerator<DeltaRow[]> {
    for await (const batch of this.columnBatches()) yield batchRows(batch)
  }

  /**
   * Rows in batches with their position in the scan, starting at row `startIndex` (0-based over the
   * whole scan, files in the snapshot's order): a reader that stored (version, index) resumes here.
   * Files wholly before the start are skipped by their row count (parquet footer minus deletion
   * vector), not read.
   */
  async *indexedBatches(startIndex = 0): AsyncGenerator<{ startIndex: number; rows: DeltaRow[] }> {
    let index = 0
    for (const file of this.files()) {
      const deleted = file.deletionVector === undefined ? undefined : await loadDeletionVector(this.store, file.deletionVector)
      if (index < startIndex) {
        const live = (await ParquetFile.open(this.store, tablePath(this.store, file.path, `data file ${file.path}`), file.size)).numRows - (deleted?.cardinality ?? 0)
        if (index + live <= startIndex) {
          index += live
          continue
        }
      }
      const toRead = { path: file.path, size: file.size, partitionValues: file.partitionValues, ...(deleted === undefined ? {} : { deleted }) }
      for await (const batch of readFileColumns(this.store, toRead, this.plan)) {
        const first = index
        index += batch.length
        if (index <= startIndex || batch.length === 0) continue
        const rows = batchRows(batch)
        yield first >= startIndex ? { startIndex: first, rows } : { startIndex, rows: rows.slice(startIndex - first) }
      }
    }
  }

  /** The same batches column by column (no object per row: the cheaper form for columnar consumers). */
  async *columnBatches(): AsyncGenerator<ColumnBatch> {
    for (const file of this.files()) {
      const deleted = file.deletionVector === undefined ? undefined : await loadDeletionVector(this.store, file.deletionVector)
      yield* readFileColumns(this.store, { path: file.path, size: file.size, partitionValues: file.partitionValues, ...(deleted === undefined ? {} : { deleted }) }, this.plan)
    }
  }

  async *rows(): AsyncGenerator<DeltaRow> {
    for await (const batch of this.batches()) yield* batch
  }
}
