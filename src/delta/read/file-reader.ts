/**
 * Reads the rows of one logical file of a table (a data file, or a change data file) as Delta rows:
 * the requested data columns converted by the Delta schema, the partition columns from the log,
 * the deletion vector's rows left out. One row group at a time, handed out in batches.
 */
import { SluiceError } from '../../errors.ts'
import type { ColumnMappingMode, StructField } from '../schema.ts'
import type { ObjectStore } from '../storage/object-store.ts'
import type { DeletedRows } from './deletion-vectors.ts'
import { ParquetFile } from './parquet-file.ts'
import { parsePartitionValue } from './partition-values.ts'
import { tablePath } from './table-path.ts'
import { converterFor, resolveChild, type DeltaRow, type DeltaValue } from './values.ts'

export interface FileToRead {
  readonly path: string
  readonly size?: number
  readonly partitionValues: Readonly<Record<string, string | null>>
  /** Rows to leave out (the file's deletion vector), by row index in the file. */
  readonly deleted?: DeletedRows
  /** Only these rows (by row index), e.g. rows a new deletion vector just deleted. */
  readonly only?: DeletedRows
}

export interface ColumnPlan {
  /** Output columns in order: each a data column (read from the file) or a partition column (from the log). */
  readonly columns: readonly { readonly field: StructField; readonly partition: boolean }[]
  readonly mode: ColumnMappingMode
}

/** Rows per batch: small enough to die young in the garbage collector, large enough to amortize. */
const BATCH_ROWS = 8192

/** Rows of (a slice of) one row group, column by column: every array has `length` values, in row order. */
export interface ColumnBatch {
  readonly length: number
  readonly columns: Readonly<Record<string, DeltaValue[]>>
}

/** Yields the file's rows as column batches of up to BATCH_ROWS rows, row group by row group (deleted rows left out). */
export async function* readFileColumns(store: ObjectStore, file: FileToRead, plan: ColumnPlan): AsyncGenerator<ColumnBatch> {
  const parquet = await ParquetFile.open(store, tablePath(store, file.path, `data file ${file.path}`), file.size)
  const readers: { name: string; key: string | undefined; convert: (raw: unknown) => DeltaValue; fixed: DeltaValue }[] = []
  for (const { field, partition } of plan.columns) {
    if (partition) {
      const fixed = parsePartitionValue(partitionValue(file.partitionValues, field, plan.mode), field.type, field.name)
      readers.push({ name: field.name, key: undefined, convert: () => fixed, fixed })
      continue
    }
    const node = resolveChild(parquet.schema.children, field, plan.mode)
    // A column added to the schema after this file was written reads as null.
    readers.push({ name: field.name, key: node?.element.name, convert: node === undefined ? () => null : converterFor(field.type, node, plan.mode), fixed: null })
  }
  const fileColumns = [...new Set(readers.flatMap((reader) => (reader.key === undefined ? [] : [reader.key])))]
  for (const range of parquet.rowGroups()) {
    const read = fileColumns.length > 0 ? await parquet.readColumns(fileColumns, range) : []
    const keep = keptRows(file, range.rowStart, range.rowEnd)
    const total = keep === undefined ? range.rowEnd - range.rowStart : keep.length
    // Converted values are handed out in slices: short-lived batches stay in V8's young generation,
    // where collecting them is cheap, instead of a whole row group's worth being promoted.
    for (let sliceStart = 0; sliceStart < total; sliceStart += BATCH_ROWS) {
      const length = Math.min(BATCH_ROWS, total - sliceStart)
      const columns: Record<string, DeltaValue[]> = {}
      for (const reader of readers) {
        const values = new Array<DeltaValue>(length)
        if (reader.key === undefined) {
          values.fill(reader.fixed)
        } else {
          // One converter over one array keeps the loop monomorphic.
          const raw = read[fileColumns.indexOf(reader.key)]!
          for (let i = 0; i < length; i++) values[i] = reader.convert(raw[keep === undefined ? sliceStart + i : keep[sliceStart + i]!])
        }
        columns[reader.name] = values
      }
      yield { length, columns }
    }
  }
}

/** Offsets within the row group of the rows to return, or undefined for all of them. */
function keptRows(file: FileToRead, rowStart: number, rowEnd: number): number[] | undefined {
  const { deleted, only } = file
  if (deleted === undefined && only === undefined) return undefined
  const keep: number[] = []
  for (let row = rowStart; row < rowEnd; row++) {
    if (deleted?.has(row) === true) continue
    if (only !== undefined && !only.has(row)) continue
    keep.push(row - rowStart)
  }
  return keep
}

/** Yields the file's rows, one array per row group. */
export async function* readFileRows(store: ObjectStore, file: FileToRead, plan: ColumnPlan): AsyncGenerator<DeltaRow[]> {
  for await (const batch of readFileColumns(store, file, plan)) yield batchRows(batch)
}

export function batchRows({ length, columns }: ColumnBatch): DeltaRow[] {
  const entries = Object.entries(columns)
  const rows = new Array<DeltaRow>(length)
  for (let i = 0; i < length; i++) {
    const row: DeltaRow = {}
    for (const [name, values] of entries) row[name] = values[i]!
    rows[i] = row
  }
  return rows
}

/** Partition values are keyed by physical name under column mapping. */
function partitionValue(values: Readonly<Record<string, string | null>>, field: StructField, mode: ColumnMappingMode): string | null {
  const physical = field.metadata['delta.columnMapping.physicalName']
  if (mode !== 'none' && typeof physical === 'string' && physical in values) return values[physical] ?? null
  if (field.name in values) return values[field.name] ?? null
  throw new SluiceError('DELTA_PROTOCOL', `a file's partitionValues lack partition column "${field.name}"`, {
    fix: 'The table log is inconsistent with its partition columns; check the writer that added the file.',
  })
}
