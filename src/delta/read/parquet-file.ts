/**
 * One parquet file of a table, read through the table's {@link ObjectStore} with hyparquet: the
 * footer once, then one row group at a time (so memory is bounded by a row group, not the file),
 * only the requested columns, any of hyparquet-compressors' codecs (snappy, gzip, zstd, lz4, brotli).
 *
 * Values come back as the file's physical values with two deliberate exceptions, so the kernel can
 * convert them exactly by the Delta type: timestamps (millis, micros, nanos, INT96) arrive as
 * microseconds since the epoch (bigint), dates as days since the epoch (number), and decimal
 * columns arrive unscaled (their annotation is dropped; the scale stays on the schema element).
 */
import { parquetMetadataAsync, parquetRead, parquetSchema, type AsyncBuffer, type FileMetaData, type SchemaTree } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
import { SluiceError } from '../../errors.ts'
import type { ObjectStore } from '../storage/object-store.ts'

export interface RowGroupRange {
  readonly rowStart: number
  readonly rowEnd: number
}

const parsers = {
  timestampFromMilliseconds: (millis: bigint) => millis * 1000n,
  timestampFromMicroseconds: (micros: bigint) => micros,
  timestampFromNanoseconds: (nanos: bigint) => floorDiv(nanos, 1000n),
  dateFromDays: (days: number) => days,
}

function floorDiv(a: bigint, b: bigint): bigint {
  const quotient = a / b
  return a % b !== 0n && a < 0n ? quotient - 1n : quotient
}

export class ParquetFile {
  readonly path: string
  readonly metadata: FileMetaData
  readonly schema: SchemaTree
  private readonly buffer: AsyncBuffer

  private constructor(path: string, buffer: AsyncBuffer, metadata: FileMetaData) {
    this.path = path
    this.buffer = buffer
    this.metadata = metadata
    this.schema = parquetSchema(metadata)
  }

  /** Opens `path` (relative to the store root); `size` saves a HEAD request when the log knows it. */
  static async open(store: ObjectStore, path: string, size?: number): Promise<ParquetFile> {
    const byteLength = size ?? (await store.head(path)).size
    const buffer: AsyncBuffer = {
      byteLength,
      slice: async (start, end) => {
        const bytes = await store.readRange(path, start, end ?? byteLength)
        return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
          ? (bytes.buffer as ArrayBuffer)
          : (bytes.slice().buffer)
      },
    }
    try {
      const metadata = await parquetMetadataAsync(buffer, { parsers })
      return new ParquetFile(path, buffer, withoutDecimalAnnotations(metadata))
    } catch (error) {
      if (error instanceof SluiceError) throw error
      throw parquetError(store, path, error)
    }
  }

  get numRows(): number {
    return Number(this.metadata.num_rows)
  }

  /** The row ranges of the file's row groups, in order. */
  rowGroups(): RowGroupRange[] {
    const ranges: RowGroupRange[] = []
    let rowStart = 0
    for (const group of this.metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows)
      ranges.push({ rowStart, rowEnd })
      rowStart = rowEnd
    }
    return ranges
  }

  /** Names of the top-level columns in the file. */
  topLevelColumns(): string[] {
    return this.schema.children.map((child) => child.element.name)
  }

  /**
   * Rows `[rowStart, rowEnd)` column by column: one array per name in `columns` (top-level names,
   * structs, lists and maps assembled), each holding the range's values in row order.
   */
  async readColumns(columns: readonly string[], range: RowGroupRange): Promise<ArrayLike<unknown>[]> {
    const wanted = new Map(columns.map((column, index) => [column, index]))
    const length = range.rowEnd - range.rowStart
    const out: ArrayLike<unknown>[] = columns.map(() => [])
    const filled = columns.map(() => 0)
    try {
      await parquetRead({
        file: this.buffer,
        metadata: this.metadata,
        columns: [...columns],
        rowStart: range.rowStart,
        rowEnd: range.rowEnd,
        compressors,
        parsers,
        utf8: false,
        onChunk: ({ columnName, columnData, rowStart }) => {
          const index = wanted.get(columnName)
          if (index === undefined) return
          if (rowStart === range.rowStart && columnData.length === length) {
            // The usual case: one chunk is exactly the row group's column; use it as it is.
            out[index] = columnData as ArrayLike<unknown>
            filled[index] = length
            return
          }
          // A chunk may cover rows outside the range: copy only the overlap.
          if (filled[index] === 0) out[index] = new Array<unknown>(length)
          const target = out[index] as unknown[]
          const from = Math.max(range.rowStart, rowStart)
          const to = Math.min(range.rowEnd, rowStart + columnData.length)
          for (let row = from; row < to; row++) target[row - range.rowStart] = columnData[row - rowStart]
          filled[index]! += Math.max(0, to - from)
        },
      })
    } catch (error) {
      throw new SluiceError('PARQUET_READ', `could not read rows ${range.rowStart}-${range.rowEnd} of ${this.path}: ${(error as Error).message}`, {
        fix: 'The data file may be corrupt or use a parquet feature this reader lacks; check it with another parquet reader.',
        cause: error,
      })
    }
    const short = filled.findIndex((count) => count < length)
    if (short >= 0) {
      throw new SluiceError('PARQUET_READ', `column "${columns[short]}" of ${this.path} has ${filled[short]} values for rows ${range.rowStart}-${range.rowEnd}`, {
        fix: 'The data file is inconsistent (a column shorter than its row group); check it with another parquet reader.',
      })
    }
    return out
  }
}

/** Decimal columns are converted by the kernel (exactly); hyparquet would make them lossy numbers. */
function withoutDecimalAnnotations(metadata: FileMetaData): FileMetaData {
  const schema = metadata.schema.map((element) =>
    element.converted_type === 'DECIMAL' || element.logical_type?.type === 'DECIMAL'
      ? { ...element, converted_type: undefined, logical_type: undefined, scale: element.scale ?? 0 }
      : element,
  )
  return { ...metadata, schema }
}

function parquetError(store: ObjectStore, path: string, error: unknown): SluiceError {
  return new SluiceError('PARQUET_READ', `${path} under ${store.root} is not a readable parquet file: ${(error as Error).message}`, {
    fix: 'The file may be truncated or not parquet; check it with another parquet reader.',
    cause: error,
  })
}
