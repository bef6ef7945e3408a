/**
 * Avro's logical types with the JS values a pipeline naturally holds: `long` as bigint (exact past
 * 2^53; numbers are accepted on write), decimal as a string ("12.30"), timestamps as Date, date as
 * a Date at UTC midnight. Writes also accept the raw forms (bigint microseconds, 'YYYY-MM-DD', …).
 */
import avro from 'avsc'

/** avsc packs the 8 bytes `toBuffer` returns at once, so one scratch buffer serves every write. */
const longScratch = Buffer.alloc(8)

/** `long` as bigint; writes also take safe-integer numbers. */
export const bigintLong: avro.types.LongType = avro.types.LongType.__with({
  fromBuffer: (buffer: Buffer) => buffer.readBigInt64LE(),
  toBuffer: (value: bigint | number) => {
    longScratch.writeBigInt64LE(BigInt(value))
    return longScratch
  },
  fromJSON: (value: number | string) => BigInt(value),
  toJSON: (value: bigint) => Number(value),
  isValid: (value: unknown) => typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value)),
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
})

/**
 * avsc picks a union branch by running the value through each logical branch's `_check`, which by
 * default converts it (and throws on a mismatch, e.g. for every null). Without an error hook (branch
 * picking) a cheap test of the JS type is enough: the write converts, and reports what is wrong.
 * With a hook (`isValid`, which names bad fields) the full conversion runs.
 */
abstract class QuickCheckType extends avro.types.LogicalType {
  protected abstract accepts(value: unknown): boolean

  _check(value: unknown, flags: unknown, hook: unknown, path: unknown): boolean {
    if (hook === undefined) return this.accepts(value)
    return (avro.types.LogicalType.prototype as unknown as { _check: (...args: unknown[]) => boolean })._check.call(this, value, flags, hook, path)
  }
}

/** `decimal` on bytes or fixed, as an exact string with exactly `scale` fraction digits. */
class DecimalType extends QuickCheckType {
  readonly #scale: number
  readonly #precision: number
  readonly #fixedSize: number | undefined

  constructor(schema: avro.Schema, options?: unknown) {
    super(schema, options)
    const attributes = schema as { precision?: number; scale?: number; size?: number }
    this.#precision = attributes.precision ?? 38
    this.#scale = attributes.scale ?? 0
    this.#fixedSize = this.underlyingType.typeName === 'fixed' ? attributes.size : undefined
  }

  protected accepts(value: unknown): boolean {
    return typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint'
  }

  protected override _fromValue(bytes: Buffer): string {
    // Up to 6 bytes (48 bits) a JS number holds the unscaled value exactly: skip BigInt.
    let unscaled: bigint | number = bytes.length === 0 ? 0 : bytes.length <= 6 ? bytes.readIntBE(0, bytes.length) : BigInt.asIntN(bytes.length * 8, BigInt(`0x${bytes.toString('hex')}`))
    const negative = unscaled < 0
    if (negative) unscaled = -unscaled
    const digits = unscaled.toString().padStart(this.#scale + 1, '0')
    const whole = digits.slice(0, digits.length - this.#scale)
    const fraction = this.#scale > 0 ? `.${digits.slice(digits.length - this.#scale)}` : ''
    return `${negative ? '-' : ''}${whole}${fraction}`
  }

  protected override _toValue(value: unknown): Buffer {
    const text = typeof value === 'number' || typeof value === 'bigint' ? String(value) : value
    if (typeof text !== 'string') throw new Error(`decimal(${this.#precision},${this.#scale}) needs a string such as "12.30", got ${typeof value}`)
    const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim())
    if (match === null || (match[2] === '' && (match[3] ?? '') === '')) throw new Error(`"${text}" is not a decimal number`)
    const fraction = (match[3] ?? '').replace(/0+$/, '')
    if (fraction.length > this.#scale) throw new Error(`"${text}" has more than ${this.#scale} fraction digits`)
    const digits = `${match[2]}${fraction.padEnd(this.#scale, '0')}`.replace(/^0+(?=\d)/, '')
    if (digits.length > this.#precision) throw new Error(`"${text}" has more than ${this.#precision} digits`)
    if (digits.length <= 14 && this.#fixedSize === undefined) return smallTwosComplement(Number(`${match[1]}${digits}`))
    return twosComplement(BigInt(`${match[1]}${digits}`), this.#fixedSize)
  }

  protected override _resolve(type: avro.Type): ((value: Buffer) => Buffer) | undefined {
    if (type instanceof DecimalType && type.#scale === this.#scale && type.#precision <= this.#precision) return (value) => value
    return undefined
  }

  protected override _export(schema: avro.Schema): void {
    const attributes = schema as Record<string, unknown>
    attributes.precision = this.#precision
    attributes.scale = this.#scale
  }
}

/** Minimal big-endian two's complement of an integer below 2^47 in magnitude (Buffer's writeIntBE). */
function smallTwosComplement(value: number): Buffer {
  let size = 1
  while (value >= 2 ** (size * 8 - 1) || value < -(2 ** (size * 8 - 1))) size++
  const buffer = Buffer.allocUnsafe(size)
  buffer.writeIntBE(value, 0, size)
  return buffer
}

function twosComplement(value: bigint, fixedSize: number | undefined): Buffer {
  let size = 1
  while (value >= 1n << BigInt(size * 8 - 1) || value < -(1n << BigInt(size * 8 - 1))) size++
  const width = fixedSize ?? size
  if (size > width) throw new Error(`the number needs ${size} bytes, the fixed type has ${width}`)
  const hex = BigInt.asUintN(width * 8, value).toString(16).padStart(width * 2, '0')
  return Buffer.from(hex, 'hex')
}

/** Microseconds since the epoch from the forms a timestamp arrives in. */
function toMicros(value: unknown): bigint {
  if (value instanceof Date) {
    const ms = value.getTime()
    if (Number.isNaN(ms)) throw new Error('invalid Date')
    return BigInt(ms) * 1000n
  }
  if (typeof value === 'bigint') return value
  if (typeof value === 'string') return toMicros(new Date(value))
  throw new Error(`a timestamp needs a Date, an ISO-8601 string or bigint microseconds since the epoch, got ${typeof value}`)
}

/** `timestamp-micros` (and `local-timestamp-micros`, wall-clock time read as UTC) as Date; writes take Date, ISO string or bigint µs. */
// The underlying long of a timestamp stays a JS number: microseconds fit 2^53 until the year 2255.
class TimestampMicrosType extends QuickCheckType {
  protected accepts(value: unknown): boolean {
    return value instanceof Date || typeof value === 'bigint' || typeof value === 'string'
  }

  protected override _fromValue(micros: number): Date {
    return new Date(Math.floor(micros / 1000))
  }

  protected override _toValue(value: unknown): number {
    return Number(toMicros(value))
  }

  protected override _resolve(type: avro.Type): ((value: number) => number) | undefined {
    if (type instanceof TimestampMicrosType) return (value) => value
    if (type instanceof TimestampMillisType) return (value) => value * 1000
    return undefined
  }
}

/** `timestamp-millis` (and `local-timestamp-millis`) as Date. */
class TimestampMillisType extends QuickCheckType {
  protected accepts(value: unknown): boolean {
    return value instanceof Date || typeof value === 'bigint' || typeof value === 'string'
  }

  protected override _fromValue(millis: number): Date {
    return new Date(millis)
  }

  protected override _toValue(value: unknown): number {
    return Number(toMicros(value) / 1000n)
  }

  protected override _resolve(type: avro.Type): ((value: unknown) => unknown) | undefined {
    return type instanceof TimestampMillisType ? (value) => value : undefined
  }
}

const MS_PER_DAY = 86_400_000

/** `date` as a Date at UTC midnight; writes take Date, 'YYYY-MM-DD' or the day number. */
class DateType extends QuickCheckType {
  protected accepts(value: unknown): boolean {
    return value instanceof Date || typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value))
  }

  protected override _fromValue(days: number): Date {
    return new Date(days * MS_PER_DAY)
  }

  protected override _toValue(value: unknown): number {
    if (typeof value === 'number' && Number.isInteger(value)) return value
    const date = typeof value === 'string' ? new Date(`${value}T00:00:00Z`) : value
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new Error(`a date needs a Date or a 'YYYY-MM-DD' string, got ${String(value)}`)
    return Math.floor(date.getTime() / MS_PER_DAY)
  }

  protected override _resolve(type: avro.Type): ((value: unknown) => unknown) | undefined {
    return type instanceof DateType ? (value) => value : undefined
  }
}

/** Makes every plain `long` (not a logical type's) the bigint long. */
export function bigintLongHook(schema: unknown): avro.Type | undefined {
  if (schema === 'long') return bigintLong
  if (typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'long' && !('logicalType' in schema)) return bigintLong
  return undefined
}

export const logicalTypes = {
  decimal: DecimalType,
  'timestamp-micros': TimestampMicrosType,
  'local-timestamp-micros': TimestampMicrosType,
  'timestamp-millis': TimestampMillisType,
  'local-timestamp-millis': TimestampMillisType,
  date: DateType,
}
