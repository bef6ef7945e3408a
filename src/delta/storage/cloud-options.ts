/**
 * Checks a cloud store's options at creation: they often come from a configuration file, where a
 * misspelt key or a number given as text would otherwise surface later as an obscure SDK failure.
 * Errors name the option and never echo its value (it may be a secret).
 */
import { SluiceError } from '../../errors.ts'

/** `date`: a Date or epoch milliseconds; `json`: a JSON text or a parsed object. */
export type OptionKind = 'string' | 'number' | 'boolean' | 'function' | 'object' | 'date' | 'json'

/** The kinds of an option object's fields; optional fields end with `?`. */
export type OptionSpec = Readonly<Record<string, OptionKind>>

/** Throws CONFIG_INVALID unless `options` has only the fields of `spec`, each of its kind. */
export function checkOptions(what: string, options: unknown, spec: OptionSpec): void {
  if (typeof options !== 'object' || options === null) throw invalid(what, `must be an object`, spec)
  const fields = new Map(Object.entries(spec).map(([key, kind]) => [key.replace(/\?$/, ''), { kind, optional: key.endsWith('?') }]))
  for (const [key, value] of Object.entries(options)) {
    const field = fields.get(key)
    if (field === undefined) throw invalid(what, `has an unknown option "${key}"`, spec)
    if (value !== undefined && !isKind(value, field.kind)) throw invalid(what, `option "${key}" must be a ${kindText[field.kind]}`, spec)
  }
  for (const [key, field] of fields) {
    if (!field.optional && (options as Record<string, unknown>)[key] === undefined) throw invalid(what, `lacks the option "${key}"`, spec)
  }
}

/** Checks credentials against the variant whose distinguishing field they carry (e.g. `sasToken`). */
export function checkVariant(what: string, options: unknown, variants: ReadonlyArray<{ key: string; spec: OptionSpec }>): void {
  const variant = variants.find(({ key }) => typeof options === 'object' && options !== null && key in options)
  if (variant === undefined) {
    throw new SluiceError('CONFIG_INVALID', `${what} must have one of the fields ${variants.map(({ key }) => `"${key}"`).join(', ')}`, {
      fix: `Give ${what} one of these shapes: ${variants.map(({ spec }) => describe(spec)).join(' | ')}.`,
    })
  }
  checkOptions(what, options, variant.spec)
}

const kindText: Record<OptionKind, string> = {
  string: 'string',
  number: 'number',
  boolean: 'boolean',
  function: 'function',
  object: 'object',
  date: 'Date or epoch milliseconds',
  json: 'JSON text or object',
}

function isKind(value: unknown, kind: OptionKind): boolean {
  if (kind === 'date') return value instanceof Date || (typeof value === 'number' && Number.isFinite(value))
  if (kind === 'json') return typeof value === 'string' || (typeof value === 'object' && value !== null)
  if (kind === 'object') return typeof value === 'object' && value !== null
  return typeof value === kind
}

function invalid(what: string, problem: string, spec: OptionSpec): SluiceError {
  return new SluiceError('CONFIG_INVALID', `${what} ${problem}`, { fix: `Use the options ${describe(spec)}.` })
}

function describe(spec: OptionSpec): string {
  return `{ ${Object.entries(spec).map(([key, kind]) => `${key}: ${kind}`).join(', ')} }`
}
