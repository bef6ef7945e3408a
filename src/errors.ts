/**
 * The one error type users of Sluice see. Every SluiceError says what happened, and what to do
 * about it, so that a log line alone is enough to act on.
 */

/** Stable identifiers users can match on (`err.code === 'KAFKA_CONNECT'`). */
export type SluiceErrorCode =
  | 'CONFIG_INVALID'
  | 'KAFKA_CONNECT'
  | 'KAFKA_AUTH'
  | 'KAFKA_TOPIC'
  | 'KAFKA_PRODUCE'
  | 'KAFKA_CONSUME'
  | 'KAFKA_TRANSACTION'
  | 'KAFKA_FENCED'
  | 'KAFKA_ADMIN'
  | 'KAFKA_CLOSED'
  | 'BROKER_SETUP'
  | 'APP_CONFIG'
  | 'PROCESSING_FAILED'
  | 'DESERIALIZATION_FAILED'
  | 'SERIALIZATION_FAILED'
  | 'SCHEMA_REGISTRY'
  | 'SCHEMA_INCOMPATIBLE'
  | 'STATE_STORE'
  | 'STATE_RESTORE'
  | 'DELTA_STORAGE'
  | 'DELTA_PROTOCOL'
  | 'DELTA_UNSUPPORTED_FEATURE'
  | 'DELTA_TABLE_NOT_FOUND'
  | 'DELTA_VERSION_NOT_FOUND'
  | 'DELTA_CDF_UNAVAILABLE'
  | 'DELTA_FILE_VACUUMED'
  | 'PARQUET_READ'
  | 'DATABRICKS_AUTH'
  | 'DATABRICKS_API'
  | 'DATABRICKS_SQL'
  | 'DATABRICKS_TIMEOUT'
  | 'SOURCE_FAILED'
  | 'SINK_FAILED'

export interface SluiceErrorOptions {
  /** What the user can do to fix it, one sentence. */
  fix: string
  /** The underlying error, kept for stack traces. */
  cause?: unknown
  /** Whether retrying the same operation may succeed (a leader moved, a broker restarted). */
  retriable?: boolean
}

export class SluiceError extends Error {
  readonly code: SluiceErrorCode
  readonly fix: string
  readonly retriable: boolean

  constructor(code: SluiceErrorCode, message: string, options: SluiceErrorOptions) {
    super(`${message} — ${options.fix}`, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SluiceError'
    this.code = code
    this.fix = options.fix
    this.retriable = options.retriable ?? false
  }
}

/** Replaces secret values in a text before it reaches a log or an error message. */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let redacted = text
  for (const secret of secrets) {
    if (secret !== undefined && secret.length > 0) redacted = redacted.split(secret).join('***')
  }
  return redacted
}
