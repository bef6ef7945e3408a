/**
 * Delta values as JavaScript values. One mapping for every table, chosen so rows are exact and
 * serialize to JSON without surprises:
 *
 * | Delta type | JS value |
 * |---|---|
 * | string | string |
 * | long | bigint (exact; JSON encoders should write it as a number literal) |
 * | integer, short, byte, float, double | number |
 * | boolean | boolean |
 * | decimal(p, s) | string with exactly s fraction digits, e.g. `"-12.50"` (exact) |
 * | date | string `YYYY-MM-DD` |
 * | timestamp | string, ISO 8601 in UTC with microseconds, `2024-05-01T12:00:00.000000Z` |
 * | timestamp_ntz | string, the same without the `Z`, `2024-05-01T12:00:00.000000` |
 * | binary | Uint8Array |
 * | struct | plain object keyed by (logical) field name |
 * | array | array |
 * | map | plain object keyed by the key's string form |
 *
 * Null is `null` for every type.
 */
import type { SchemaTree } from 'hyparquet'
import type { DeltaType, StructField } from '../schema.ts'
import { fieldId, physicalName, type ColumnMappingMode } from '../schema.ts'

export type DeltaValue = string | number | bigint | boolean | Uint8Array | null | DeltaValue[] | { [key: string]: DeltaValue }

export type DeltaRow = Record<string, DeltaValue>

type Converter = (raw: unknown) => DeltaValue

const utf8 = new TextDecoder()

const MICROS_PER_DAY = 86_400_000_000
const SAFE_MICROS = BigInt(Number.MAX_SAFE_INTEGER)

/** Microseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.ffffff` (no zone suffix). */
export function formatMicros(micros: bigint): string {
  if (micros > SAFE_MICROS || micros < -SAFE_MICROS) {
    // Beyond about year 2255 a double loses microseconds: split exactly in bigint first.
    const days = micros / 86_400_000_000n - (micros % 86_400_000_000n < 0n ? 1n : 0n)
    return `${formatDays(Number(days))}T${timeOfDay(Number(micros - days * 86_400_000_000n))}`
  }
  const value = Number(micros)
  const days = Math.floor(value / MICROS_PER_DAY)
  return `${formatDays(days)}T${timeOfDay(value - days * MICROS_PER_DAY)}`
}

function timeOfDay(micros: number): string {
  const hours = Math.floor(micros / 3_600_000_000)
  const minutes = Math.floor(micros / 60_000_000) % 60
  const seconds = Math.floor(micros / 1_000_000) % 60
  const fraction = micros % 1_000_000
  return `${hours < 10 ? '0' : ''}${hours}:${minutes < 10 ? '0' : ''}${minutes}:${seconds < 10 ? '0' : ''}${seconds}.${String(fraction).padStart(6, '0')}`
}

/** Day strings already formatted (tables repeat dates a lot); bounded so it cannot grow without end. */
const dayStrings = new Map<number, string>()

/** Days since the epoch as `YYYY-MM-DD` (proleptic Gregorian, as Delta's dates are). */
export function formatDays(days: number): string {
  let text = dayStrings.get(days)
  if (text === undefined) {
    text = civilDate(days)
    if (dayStrings.size >= 100_000) dayStrings.clear()
    dayStrings.set(days, text)
  }
  return text
}

/** Howard Hinnant's days-to-civil algorithm. */
function civilDate(days: number): string {
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const dayOfEra = z - era * 146_097
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365)
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100))
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153)
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
  // Years outside 0000-9999 take ISO 8601's expanded form, as Date.prototype.toISOString writes them.
  const yearText = year < 0 ? `-${String(-year).padStart(6, '0')}` : year > 9999 ? `+${String(year).padStart(6, '0')}` : String(year).padStart(4, '0')
  return `${yearText}-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`
}

/** An unscaled integer at `scale` as a decimal string with exactly `targetScale` fraction digits. */
export function formatDecimal(unscaled: bigint | number, scale: number, targetScale: number): string {
  let value = unscaled
  if (targetScale !== scale) {
    // Only type widening changes the scale between a file and the table: rescale exactly in bigint.
    value = BigInt(value)
    if (targetScale > scale) value *= 10n ** BigInt(targetScale - scale)
    else value /= 10n ** BigInt(scale - targetScale)
  }
  const negative = value < 0
  const digits = (negative ? -value : value).toString().padStart(targetScale + 1, '0')
  if (targetScale === 0) return negative ? `-${digits}` : digits
  const point = digits.length - targetScale
  return `${negative ? '-' : ''}${digits.slice(0, point)}.${digits.slice(point)}`
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n
  let value = 0n
  for (const byte of bytes) value = (value << 8n) | BigInt(byte)
  if ((bytes[0] ?? 0) & 0x80) value -= 1n << BigInt(bytes.length * 8)
  return value
}

/** INT32 decimals stay numbers (exact: at most 9 digits), INT64 and byte-array ones are bigints. */
function unscaled(raw: unknown): bigint | number {
  if (typeof raw === 'bigint' || typeof raw === 'number') return raw
  if (raw instanceof Uint8Array) return bytesToBigInt(raw)
  throw new TypeError(`unexpected decimal value ${typeof raw}`)
}

/** Microseconds since the epoch of a raw timestamp (or, after type widening from date, a day number). */
function micros(raw: unknown): bigint {
  if (typeof raw === 'bigint') return raw
  if (typeof raw === 'number') return BigInt(raw) * 86_400_000_000n
  throw new TypeError(`unexpected timestamp value ${typeof raw}`)
}

/**
 * A converter from what {@link ParquetFile} returns for `node` (hyparquet's assembled value) to the
 * value of Delta type `type`; `node` is the parquet schema node the field resolved to.
 */
export function converterFor(type: DeltaType, node: SchemaTree, mode: ColumnMappingMode): Converter {
  const nonNull = (convert: (raw: unknown) => DeltaValue): Converter => (raw) => (raw === null || raw === undefined ? null : convert(raw))
  switch (type.type) {
    case 'string':
      return nonNull((raw) => (raw instanceof Uint8Array ? utf8.decode(raw) : String(raw)))
    case 'long':
      return nonNull((raw) => (typeof raw === 'bigint' ? raw : BigInt(raw as number)))
    case 'integer':
    case 'short':
    case 'byte':
    case 'float':
    case 'double':
      return nonNull((raw) => Number(raw))
    case 'boolean':
      return nonNull((raw) => Boolean(raw))
    case 'binary':
      return nonNull((raw) => (raw instanceof Uint8Array ? raw : new TextEncoder().encode(String(raw))))
    case 'date':
      return nonNull((raw) => formatDays(Number(raw)))
    case 'timestamp':
      return nonNull((raw) => `${formatMicros(micros(raw))}Z`)
    case 'timestamp_ntz':
      return nonNull((raw) => formatMicros(micros(raw)))
    case 'decimal': {
      const fileScale = node.element.scale ?? 0
      return nonNull((raw) => formatDecimal(unscaled(raw), fileScale, type.scale))
    }
    case 'struct': {
      const children = type.fields.map((field) => {
        const child = resolveChild(node.children, field, mode)
        return { name: field.name, key: child?.element.name, convert: child === undefined ? () => null : converterFor(field.type, child, mode) }
      })
      return nonNull((raw) => {
        const record = raw as Record<string, unknown>
        const out: Record<string, DeltaValue> = {}
        for (const { name, key, convert } of children) out[name] = key === undefined ? null : convert(record[key])
        return out
      })
    }
    case 'array': {
      const element = listElement(node)
      const convert = converterFor(type.elementType, element, mode)
      return nonNull((raw) => (raw as unknown[]).map(convert))
    }
    case 'map': {
      const keyValue = node.children[0]
      const valueNode = keyValue?.children[1]
      const convert = valueNode === undefined ? () => null : converterFor(type.valueType, valueNode, mode)
      return nonNull((raw) => {
        const out: Record<string, DeltaValue> = {}
        const entries = raw instanceof Map ? [...(raw as Map<unknown, unknown>).entries()] : Object.entries(raw as Record<string, unknown>)
        for (const [key, value] of entries) out[String(key)] = convert(value)
        return out
      })
    }
  }
}

/** The element node of a parquet LIST (three-level, or the legacy two-level forms). */
function listElement(node: SchemaTree): SchemaTree {
  const repeated = node.children[0]
  if (repeated === undefined) return node
  if (repeated.children.length === 1 && repeated.element.name !== 'array' && !repeated.element.name.endsWith('_tuple')) {
    return repeated.children[0] ?? repeated
  }
  return repeated
}

/** The parquet child a Delta field is stored in: by field id (mode id), physical name (mode name) or name. */
export function resolveChild(children: readonly SchemaTree[], field: StructField, mode: ColumnMappingMode): SchemaTree | undefined {
  if (mode === 'id') {
    const id = fieldId(field)
    const byId = children.find((child) => child.element.field_id === id)
    if (byId !== undefined) return byId
  }
  const name = physicalName(field, mode)
  return children.find((child) => child.element.name === name)
}
