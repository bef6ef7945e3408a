/**
 * Reads the rows of one logical file of a table (a data file, or a change data file) as Delta rows:
 * the requested data columns converted by the Delta schema, the partition columns from the log,
 * the deletion vector's rows left out. One row group at a time.
 */
import { SluiceError } from '../../errors.ts'
import type { StructField } from '../schema.ts'
import type { ColumnMappingMode } from '../schema.ts'
import type { ObjectStore } from '../storage/object-store.ts'
import type { DeletedRows } from './deletion-vectors.ts'
import { ParquetFile } from './parquet-file.ts'
import { parsePartitionValue } from './partition-values.ts'
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

/** Yields the file's rows, one array per row group. */
export async function* readFileRows(store: ObjectStore, file: FileToRead, plan: ColumnPlan): AsyncGenerator<DeltaRow[]> {
  const parquet = await ParquetFile.open(store, file.path, file.size)
  const fixed: [string, DeltaValue][] = []
  const readers: { name: string; key: string | undefined; convert: (raw: unknown) => DeltaValue }[] = []
  for (const { field, partition } of plan.columns) {
    if (partition) {
      const raw = partitionValue(file.partitionValues, field, plan.mode)
      fixed.push([field.name, parsePartitionValue(raw, field.type, field.name)])
      readers.push({ name: field.name, key: undefined, convert: () => null })
      continue
    }
    const node = resolveChild(parquet.schema.children, field, plan.mode)
    // A column added to the schema after this file was written reads as null.
    readers.push({ name: field.name, key: node?.element.name, convert: node === undefined ? () => null : converterFor(field.type, node, plan.mode) })
  }
  const partitionByName = new Map(fixed)
  const fileColumns = readers.flatMap((reader) => (reader.key === undefined ? [] : [reader.key]))
  // Where each output column comes from: an index into the row read from the file, or a partition value.
  const sources = readers.map((reader) => ({ ...reader, index: reader.key === undefined ? -1 : fileColumns.indexOf(reader.key), fixed: partitionByName.get(reader.name) ?? null }))
  for (const range of parquet.rowGroups()) {
    const count = range.rowEnd - range.rowStart
    const read = fileColumns.length > 0 ? await parquet.readColumns(fileColumns, range) : []
    // Convert column by column (one converter over one array keeps each loop monomorphic), then build rows.
    const columns = sources.map((source) => (source.index < 0 ? undefined : read[source.index]!.map(source.convert)))
    const rows: DeltaRow[] = []
    for (let i = 0; i < count; i++) {
      const rowIndex = range.rowStart + i
      if (file.deleted?.has(rowIndex) === true) continue
      if (file.only !== undefined && !file.only.has(rowIndex)) continue
      const row: DeltaRow = {}
      for (let c = 0; c < sources.length; c++) {
        const column = columns[c]
        row[sources[c]!.name] = column === undefined ? sources[c]!.fixed : column[i]!
      }
      rows.push(row)
    }
    yield rows
  }
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
