/**
 * Partition values (protocol "Partition Value Serialization"): strings in the log, turned into the
 * same JS values data columns get (see values.ts). An empty string or null is null.
 */
import { SluiceError } from '../../errors.ts'
import type { DeltaType } from '../schema.ts'
import { formatDecimal, formatMicros, type DeltaValue } from './values.ts'

export function parsePartitionValue(text: string | null | undefined, type: DeltaType, column: string): DeltaValue {
  if (text === null || text === undefined || text === '') return null
  switch (type.type) {
    case 'string':
      return text
    case 'long':
      return BigInt(text)
    case 'integer':
    case 'short':
    case 'byte':
    case 'float':
    case 'double':
      return Number(text)
    case 'boolean':
      return text === 'true'
    case 'date':
      return checked(/^\d{4}-\d{2}-\d{2}$/.test(text), text, column, text)
    case 'timestamp':
      return `${formatMicros(timestampMicros(text, column))}Z`
    case 'timestamp_ntz':
      return formatMicros(timestampMicros(text, column))
    case 'decimal': {
      const match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text)
      if (match === null) return checked(false, text, column, text)
      const fraction = match[3] ?? ''
      const unscaled = BigInt(`${match[1]}${match[2] === '' ? '0' : match[2]}${fraction}`)
      return formatDecimal(unscaled, fraction.length, type.scale)
    }
    case 'binary':
      return Uint8Array.from(text, (char) => char.charCodeAt(0) & 0xff)
    default:
      throw new SluiceError('DELTA_PROTOCOL', `partition column "${column}" has type ${type.type}, which cannot be a partition column`, {
        fix: 'The table metadata is inconsistent; check its partitionColumns.',
      })
  }
}

/**
 * `YYYY-MM-DD HH:MM:SS[.ffffff]` (read as UTC: Sluice does not guess the writer's zone) or ISO 8601
 * with a zone (`...T...Z`, `+hh:mm`).
 */
function timestampMicros(text: string, column: string): bigint {
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(text)
  if (match === null) return checked(false, text, column, 0n)
  const zone = match[4] === undefined || match[4] === 'Z' ? 'Z' : match[4]
  const seconds = Date.parse(`${match[1]}T${match[2]}${zone}`)
  if (Number.isNaN(seconds)) return checked(false, text, column, 0n)
  const fraction = (match[3] ?? '').padEnd(6, '0').slice(0, 6)
  return BigInt(seconds) * 1000n + BigInt(fraction)
}

function checked<T>(valid: boolean, text: string, column: string, value: T): T {
  if (!valid) {
    throw new SluiceError('DELTA_PROTOCOL', `partition value "${text}" of column "${column}" does not match its type`, {
      fix: 'The table log holds a malformed partition value; check the writer that added the file.',
    })
  }
  return value
}
