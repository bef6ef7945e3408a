/**
 * The JavaScript value of each Databricks SQL type, the same whether the result came as
 * JSON_ARRAY (where every non-null value is a string) or as Arrow:
 *
 * | `type_name`                         | JavaScript                                             |
 * |-------------------------------------|--------------------------------------------------------|
 * | BOOLEAN                             | boolean                                                |
 * | BYTE, SHORT, INT, FLOAT, DOUBLE     | number (NaN and ±Infinity included)                   |
 * | LONG                                | bigint (exact beyond 2^53)                             |
 * | DECIMAL                             | string, exact, with the column's scale (`"12.50"`)     |
 * | DATE                                | string `YYYY-MM-DD` (a calendar date has no time zone) |
 * | TIMESTAMP                           | Date (UTC instant; JavaScript keeps milliseconds)      |
 * | STRING, CHAR, INTERVAL, TIMESTAMP_NTZ, USER_DEFINED_TYPE | string                    |
 * | BINARY                              | Uint8Array                                             |
 * | ARRAY, MAP, STRUCT                  | the parsed JSON (arrays / objects)                     |
 * | NULL, and any SQL NULL              | null                                                   |
 */
import { SluiceError } from '../errors.ts'

export type SqlValue = null | boolean | number | bigint | string | Date | Uint8Array | unknown[] | { [key: string]: unknown }
export type Row = Record<string, SqlValue>

/** A column of a statement's result, as the manifest's schema describes it. */
export interface ResultColumn {
  name: string
  position: number
  typeName: string
  typeText: string
  typePrecision?: number
  typeScale?: number
}

/** Converts one JSON_ARRAY cell (a string, or null) to the column's JavaScript value. */
export function fromJsonCell(cell: unknown, column: ResultColumn): SqlValue {
  if (cell === null || cell === undefined) return null
  const text = typeof cell === 'string' ? cell : JSON.stringify(cell)
  switch (column.typeName) {
    case 'BOOLEAN':
      return text === 'true'
    case 'BYTE':
    case 'SHORT':
    case 'INT':
    case 'FLOAT':
    case 'DOUBLE':
      return Number(text)
    case 'LONG':
      return BigInt(text)
    case 'DECIMAL':
      return text
    case 'DATE':
      return text.slice(0, 10)
    case 'TIMESTAMP':
      return timestamp(text, column)
    case 'BINARY':
      return new Uint8Array(Buffer.from(text, 'base64'))
    case 'ARRAY':
    case 'MAP':
    case 'STRUCT':
      return JSON.parse(text) as SqlValue
    case 'NULL':
      return null
    default:
      return text
  }
}

/** Converts one Arrow cell (as apache-arrow reads it) to the column's JavaScript value. */
export function fromArrowCell(cell: unknown, column: ResultColumn, arrowScale: number | undefined): SqlValue {
  if (cell === null || cell === undefined) return null
  switch (column.typeName) {
    case 'LONG':
      return typeof cell === 'bigint' ? cell : BigInt(cell as number)
    case 'DECIMAL':
      return decimalString(cell as Uint32Array, arrowScale ?? column.typeScale ?? 0)
    case 'DATE':
      return new Date(cell as number).toISOString().slice(0, 10)
    case 'TIMESTAMP':
      return new Date(Math.floor(cell as number))
    case 'BINARY':
      return cell as Uint8Array
    case 'ARRAY':
    case 'MAP':
    case 'STRUCT':
      return typeof cell === 'string' ? (JSON.parse(cell) as SqlValue) : (JSON.parse(JSON.stringify(cell)) as SqlValue)
    case 'STRING':
    case 'CHAR':
    case 'INTERVAL':
    case 'TIMESTAMP_NTZ':
      return typeof cell === 'string' ? cell : JSON.stringify(cell)
    default:
      return cell as SqlValue
  }
}

/** A little-endian two's complement 128-bit decimal (four 32-bit words) as an exact decimal string. */
export function decimalString(words: Uint32Array, scale: number): string {
  let unscaled = 0n
  for (let i = words.length - 1; i >= 0; i--) unscaled = (unscaled << 32n) | BigInt(words[i]!)
  unscaled = BigInt.asIntN(words.length * 32, unscaled)
  const negative = unscaled < 0n
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0')
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`
  return negative ? `-${text}` : text
}

function timestamp(text: string, column: ResultColumn): Date {
  const date = new Date(text)
  if (Number.isNaN(date.getTime())) {
    throw new SluiceError('DATABRICKS_SQL', `Column "${column.name}" (${column.typeText}) has the value "${text}", which is not a timestamp`, {
      fix: 'Cast the column to STRING in the query if it holds values outside the timestamp range.',
    })
  }
  return date
}
