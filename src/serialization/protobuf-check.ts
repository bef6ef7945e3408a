/**
 * A strict check of a plain object against a Protobuf message type, run before protobufjs's
 * `fromObject`, which coerces silently (a string into 0, 2^40 into an int32's low bits, a null
 * list element into "null"). Returns the path and problem of the first bad field, or undefined.
 */
import protobuf from 'protobufjs'

type Check = (value: unknown) => string | undefined

const compiled = new WeakMap<protobuf.Type, Check>()

const INT32 = [-(2 ** 31), 2 ** 31 - 1] as const
const UINT32 = [0, 2 ** 32 - 1] as const
const INT64 = [-(2n ** 63n), 2n ** 63n - 1n] as const
const UINT64 = [0n, 2n ** 64n - 1n] as const

export function checkMessage(type: protobuf.Type, value: unknown): string | undefined {
  return checkerFor(type)(value)
}

function checkerFor(type: protobuf.Type): Check {
  let check = compiled.get(type)
  if (check !== undefined) return check
  // Set before compiling the fields, so that recursive messages find it.
  const fieldChecks: [string, Check][] = []
  check = (value) => {
    if (type.fullName === '.google.protobuf.Timestamp' && (value instanceof Date || typeof value === 'string')) {
      return Number.isNaN(new Date(value).getTime()) ? 'is not a valid timestamp' : undefined
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return `must be an object (message ${type.name})`
    const record = value as Record<string, unknown>
    for (const [name, checkField] of fieldChecks) {
      const problem = checkField(record[name])
      if (problem !== undefined) return `${name}${problem.startsWith('.') || problem.startsWith('[') ? '' : ' '}${problem}`
    }
    return undefined
  }
  compiled.set(type, check)
  for (const field of type.fieldsArray) fieldChecks.push([field.name, fieldCheck(field)])
  return check
}

function fieldCheck(field: protobuf.Field): Check {
  const single = valueCheck(field.type, field.resolvedType)
  if (field.map) {
    const keyType = (field as unknown as protobuf.MapField).keyType
    const key = valueCheck(keyType, null)
    return (value) => {
      if (value == null) return undefined
      if (typeof value !== 'object' || Array.isArray(value)) return 'must be an object (a map)'
      for (const [entryKey, entryValue] of Object.entries(value)) {
        const keyProblem = keyType === 'string' || keyType === 'bool' ? undefined : key(/^-?\d+$/.test(entryKey) ? Number(entryKey) : entryKey)
        if (keyProblem !== undefined) return `{${entryKey}} key ${keyProblem}`
        if (entryValue == null) return `{${entryKey}} is null, which Protobuf map values cannot be`
        const problem = single(entryValue)
        if (problem !== undefined) return `{${entryKey}} ${problem}`
      }
      return undefined
    }
  }
  if (field.repeated) {
    return (value) => {
      if (value == null) return undefined
      if (!Array.isArray(value)) return 'must be an array'
      for (let i = 0; i < value.length; i++) {
        if (value[i] == null) return `[${i}] is null, which Protobuf list elements cannot be`
        const problem = single(value[i])
        if (problem !== undefined) return `[${i}] ${problem}`
      }
      return undefined
    }
  }
  return (value) => (value == null ? undefined : single(value))
}

function valueCheck(typeName: string, resolved: protobuf.Type | protobuf.Enum | null): Check {
  if (resolved instanceof protobuf.Type) {
    return (value) => {
      const problem = checkerFor(resolved)(value)
      return problem === undefined ? undefined : problem.startsWith('must') || problem.startsWith('is ') ? problem : `.${problem}`
    }
  }
  if (resolved instanceof protobuf.Enum) {
    return (value) => ((typeof value === 'string' && value in resolved.values) || (typeof value === 'number' && Number.isInteger(value)) ? undefined : `must be one of ${Object.keys(resolved.values).join(', ')}`)
  }
  switch (typeName) {
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return integer(INT32)
    case 'uint32':
    case 'fixed32':
      return integer(UINT32)
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return long(INT64)
    case 'uint64':
    case 'fixed64':
      return long(UINT64)
    case 'double':
    case 'float':
      return (value) => (typeof value === 'number' ? undefined : `must be a number, got ${describe(value)}`)
    case 'bool':
      return (value) => (typeof value === 'boolean' ? undefined : `must be a boolean, got ${describe(value)}`)
    case 'string':
      return (value) => (typeof value === 'string' ? undefined : `must be a string, got ${describe(value)}`)
    case 'bytes':
      return (value) => (value instanceof Uint8Array || typeof value === 'string' ? undefined : `must be a Buffer, got ${describe(value)}`)
    default:
      return () => undefined
  }
}

function integer([min, max]: readonly [number, number]): Check {
  return (value) => (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? undefined : `must be an integer from ${min} to ${max}, got ${describe(value)}`)
}

function long([min, max]: readonly [bigint, bigint]): Check {
  return (value) => {
    let big: bigint | undefined
    if (typeof value === 'bigint') big = value
    else if (typeof value === 'number' && Number.isSafeInteger(value)) big = BigInt(value)
    else if (typeof value === 'string' && /^-?\d+$/.test(value)) big = BigInt(value)
    return big !== undefined && big >= min && big <= max ? undefined : `must be a bigint (or safe integer, or digit string) from ${min} to ${max}, got ${describe(value)}`
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `"${value.slice(0, 40)}"`
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'object') return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object'
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value)
  return typeof value
}
