/**
 * Encodes a chunk of the emulator's result as an Arrow IPC stream, with the Arrow types Databricks
 * uses for ARROW_STREAM results: BIGINT → Int64, INT → Int32, SMALLINT → Int16, TINYINT → Int8,
 * DOUBLE → Float64, FLOAT → Float32, BOOLEAN → Bool, DATE → Date32 (days), TIMESTAMP →
 * Timestamp(µs, Etc/UTC), DECIMAL(p,s) → Decimal128, BINARY → Binary, everything else → Utf8.
 * (Databricks sends ARRAY/MAP/STRUCT as nested Arrow types; the emulator sends their JSON text.)
 */
import {
  Binary, Bool, DateDay, Decimal, Float32, Float64, Int16, Int32, Int64, Int8, makeData, makeVector, Table,
  tableToIPC, TimestampMicrosecond, Utf8, vectorFromArray, type Vector,
} from 'apache-arrow'
import { formatCell, textOf, timestampOf, unscaledDecimal, type EngineColumn } from './sql-engine.ts'

export function arrowStream(columns: EngineColumn[], rows: unknown[][]): Uint8Array {
  const vectors: Record<string, Vector> = {}
  columns.forEach((column, index) => (vectors[column.name] = arrowVector(column, rows.map((row) => row[index] ?? null))))
  return tableToIPC(new Table(vectors), 'stream')
}

function arrowVector(column: EngineColumn, values: unknown[]): Vector {
  switch (column.type_name) {
    case 'LONG':
      return vectorFromArray(values.map((value) => (value === null ? null : BigInt(value as bigint))), new Int64())
    case 'INT':
      return vectorFromArray(values.map(toNumber), new Int32())
    case 'SHORT':
      return vectorFromArray(values.map(toNumber), new Int16())
    case 'BYTE':
      return vectorFromArray(values.map(toNumber), new Int8())
    case 'DOUBLE':
      return vectorFromArray(values.map(toNumber), new Float64())
    case 'FLOAT':
      return vectorFromArray(values.map(toNumber), new Float32())
    case 'BOOLEAN':
      return vectorFromArray(values.map((value) => (value === null ? null : formatCell(value, column) === 'true')), new Bool())
    case 'BINARY':
      return vectorFromArray(values.map((value) => (value === null ? null : new Uint8Array(value as Uint8Array))), new Binary())
    case 'DATE': {
      const days = new Int32Array(values.length)
      values.forEach((value, i) => (days[i] = value === null ? 0 : Math.floor(Date.parse(`${textOf(value).slice(0, 10)}T00:00:00Z`) / 86_400_000)))
      return fixedWidth(new DateDay(), values, days)
    }
    case 'TIMESTAMP': {
      const micros = new BigInt64Array(values.length)
      values.forEach((value, i) => (micros[i] = value === null ? 0n : BigInt(timestampOf(value).getTime()) * 1000n))
      return fixedWidth(new TimestampMicrosecond('Etc/UTC'), values, micros)
    }
    case 'DECIMAL': {
      const scale = column.type_scale ?? 0
      const words = new Uint32Array(values.length * 4)
      values.forEach((value, i) => {
        if (value === null) return
        let bits = BigInt.asUintN(128, unscaledDecimal(value, scale))
        for (let word = 0; word < 4; word++, bits >>= 32n) words[i * 4 + word] = Number(bits & 0xffffffffn)
      })
      return fixedWidth(new Decimal(scale, column.type_precision ?? 38, 128), values, words)
    }
    default:
      return vectorFromArray(values.map((value) => formatCell(value, column)), new Utf8())
  }
}

function fixedWidth<T extends DateDay | TimestampMicrosecond | Decimal>(type: T, values: unknown[], data: T['TArray']): Vector<T> {
  const nullBitmap = new Uint8Array(Math.ceil(values.length / 8))
  let nullCount = 0
  values.forEach((value, i) => {
    if (value === null) nullCount++
    else nullBitmap[i >> 3]! |= 1 << (i & 7)
  })
  return makeVector(makeData({ type, length: values.length, nullCount, nullBitmap, data } as Parameters<typeof makeData>[0])) as Vector<T>
}

function toNumber(value: unknown): number | null {
  return value === null ? null : Number(value)
}
