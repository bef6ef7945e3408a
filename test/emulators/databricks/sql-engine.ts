/**
 * The emulator's SQL warehouse: runs statements on Node's built-in SQLite (`node:sqlite`, a real SQL
 * engine) and describes the result the way Databricks does — a manifest schema with Databricks type
 * names, and every non-null value formatted as a string for JSON_ARRAY.
 *
 * Dialect differences from Databricks SQL (tests write SQL both accept, or SQLite's):
 * - SQLite syntax and functions (no `::` casts, `||` for concatenation, no `ARRAY<…>` literals).
 * - Column types come from the declared types of table columns (`BIGINT`, `INT`, `SMALLINT`, `TINYINT`,
 *   `DOUBLE`, `FLOAT`, `DECIMAL(p,s)`, `BOOLEAN`, `DATE`, `TIMESTAMP`, `STRING`, `BINARY`, and `ARRAY`,
 *   `MAP`, `STRUCT` holding JSON text); an expression's type is that of its first non-null value.
 * - `catalog` and `schema` of a request are accepted but name nothing: there is one database.
 * - Named parameter markers `:name` work as in Databricks; the parameter's `type` converts its value.
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite'

export interface EngineColumn {
  name: string
  position: number
  type_name: string
  type_text: string
  type_precision?: number
  type_scale?: number
}

export interface EngineResult {
  columns: EngineColumn[]
  /** Raw SQLite values per row, in column order. */
  rows: unknown[][]
}

export class StatementFailure extends Error {
  readonly sqlState: string
  constructor(message: string, sqlState: string) {
    super(message)
    this.sqlState = sqlState
  }
}

export interface WireParameter {
  name: string
  value: string | null
  type?: string
}

export function runSql(db: DatabaseSync, sql: string, parameters: WireParameter[]): EngineResult {
  const bound: Record<string, SQLInputValue> = {}
  for (const parameter of parameters) bound[parameter.name] = parameterValue(parameter)
  const unbound = [...sql.replace(/'(?:[^']|'')*'/g, '').matchAll(/(?<![:\w]):([A-Za-z_]\w*)/g)].map((match) => match[1]!).filter((name) => !(name in bound))
  if (unbound.length > 0) throw new StatementFailure(`[UNBOUND_SQL_PARAMETER] Found the unbound parameter: ${unbound[0]}.`, '42P02')
  let statement
  try {
    statement = db.prepare(sql)
  } catch (error) {
    throw failure(error)
  }
  statement.setReadBigInts(true)
  const declared = statement.columns()
  try {
    if (declared.length === 0) {
      statement.run(bound)
      return { columns: [], rows: [] }
    }
    statement.setReturnArrays(true)
    const rows = statement.all(bound) as unknown as unknown[][]
    const columns = declared.map((column, index) => describeColumn(column.name, index, column.type, rows))
    return { columns, rows }
  } catch (error) {
    throw failure(error)
  }
}

/** The JSON_ARRAY text of one value of a column (null stays null). */
export function formatCell(value: unknown, column: EngineColumn): string | null {
  if (value === null || value === undefined) return null
  switch (column.type_name) {
    case 'BOOLEAN':
      return value === 1n || value === 1 || value === 'true' ? 'true' : 'false'
    case 'LONG':
    case 'INT':
    case 'SHORT':
    case 'BYTE':
      return typeof value === 'number' ? String(Math.trunc(value)) : textOf(value)
    case 'DOUBLE':
    case 'FLOAT':
      return String(Number(value))
    case 'DECIMAL':
      return decimalText(unscaledDecimal(value, column.type_scale ?? 0), column.type_scale ?? 0)
    case 'TIMESTAMP':
      return timestampOf(value).toISOString()
    case 'BINARY':
      return Buffer.from(value as Uint8Array).toString('base64')
    default:
      return value instanceof Uint8Array ? Buffer.from(value).toString('base64') : textOf(value)
  }
}

/** A decimal value as its unscaled integer at `scale`, exactly for text and integers. */
export function unscaledDecimal(value: unknown, scale: number): bigint {
  const text = typeof value === 'number' ? value.toFixed(scale) : textOf(value)
  const match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text.trim())
  if (match === null) throw new StatementFailure(`[CAST_INVALID_INPUT] The value '${text}' cannot be cast to DECIMAL.`, '22018')
  const fraction = (match[3] ?? '').padEnd(scale, '0').slice(0, scale)
  const unscaled = BigInt(`${match[2] || '0'}${fraction}`)
  return match[1] === '-' ? -unscaled : unscaled
}

export function timestampOf(value: unknown): Date {
  if (typeof value === 'bigint' || typeof value === 'number') return new Date(Number(value))
  const text = textOf(value)
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`)
}

function decimalText(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0')
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`
  return negative ? `-${text}` : text
}

function describeColumn(name: string, position: number, declared: string | null, rows: unknown[][]): EngineColumn {
  const type = (declared ?? inferredType(rows, position)).toUpperCase().trim()
  const decimal = /^(?:DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*(?:,\s*(\d+))?\s*\)$/.exec(type)
  if (decimal !== null) {
    const precision = Number(decimal[1])
    const scale = Number(decimal[2] ?? 0)
    return { name, position, type_name: 'DECIMAL', type_text: `DECIMAL(${precision},${scale})`, type_precision: precision, type_scale: scale }
  }
  const [typeName, typeText] = TYPES[type] ?? ['STRING', 'STRING']
  return { name, position, type_name: typeName, type_text: typeText }
}

/** Declared SQLite type → [Databricks type_name, type_text]. */
const TYPES: Record<string, [string, string]> = {
  BIGINT: ['LONG', 'BIGINT'], LONG: ['LONG', 'BIGINT'], INTEGER: ['INT', 'INT'], INT: ['INT', 'INT'],
  SMALLINT: ['SHORT', 'SMALLINT'], TINYINT: ['BYTE', 'TINYINT'], DOUBLE: ['DOUBLE', 'DOUBLE'], REAL: ['DOUBLE', 'DOUBLE'],
  FLOAT: ['FLOAT', 'FLOAT'], BOOLEAN: ['BOOLEAN', 'BOOLEAN'], DATE: ['DATE', 'DATE'], TIMESTAMP: ['TIMESTAMP', 'TIMESTAMP'],
  STRING: ['STRING', 'STRING'], TEXT: ['STRING', 'STRING'], VARCHAR: ['STRING', 'STRING'], BINARY: ['BINARY', 'BINARY'],
  BLOB: ['BINARY', 'BINARY'], ARRAY: ['ARRAY', 'ARRAY'], MAP: ['MAP', 'MAP'], STRUCT: ['STRUCT', 'STRUCT'], NULL: ['NULL', 'VOID'],
}

function inferredType(rows: unknown[][], position: number): string {
  const sample = rows.find((row) => row[position] !== null)?.[position]
  if (sample === undefined) return 'NULL'
  if (typeof sample === 'bigint') return 'BIGINT'
  if (typeof sample === 'number') return 'DOUBLE'
  if (sample instanceof Uint8Array) return 'BINARY'
  return 'STRING'
}

function parameterValue(parameter: WireParameter): SQLInputValue {
  if (parameter.value === null) return null
  const type = (parameter.type ?? 'STRING').toUpperCase()
  if (/^(BIGINT|LONG|INT|INTEGER|SMALLINT|TINYINT)$/.test(type)) return BigInt(parameter.value)
  if (/^(DOUBLE|FLOAT|REAL)$/.test(type)) return Number(parameter.value)
  if (type === 'BOOLEAN') return parameter.value.toLowerCase() === 'true' ? 1 : 0
  return parameter.value
}

/** SQLite's error as Databricks would word it: an error class in brackets and a SQLSTATE. */
function failure(error: unknown): StatementFailure {
  const message = error instanceof Error ? error.message : String(error)
  if (/no such table/i.test(message)) return new StatementFailure(`[TABLE_OR_VIEW_NOT_FOUND] ${message}`, '42P01')
  if (/no such column/i.test(message)) return new StatementFailure(`[UNRESOLVED_COLUMN.WITHOUT_SUGGESTION] ${message}`, '42703')
  if (/syntax error|incomplete input/i.test(message)) return new StatementFailure(`[PARSE_SYNTAX_ERROR] ${message}`, '42601')
  if (/constraint/i.test(message)) return new StatementFailure(`[CONSTRAINT_VIOLATION] ${message}`, '23000')
  return new StatementFailure(`[INTERNAL_ERROR] ${message}`, 'XX000')
}

/** A SQLite value (text, integer, real) as text. */
export function textOf(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'bigint' ? String(value) : JSON.stringify(value)
}
