/**
 * Turns a cloud SDK's failure into the DELTA_STORAGE error a user can act on: which object, which
 * operation, and what to fix (credentials and permissions for 401/403, the path for 404). The SDK's
 * own error is not kept as the cause: it may carry request URLs with SAS tokens or signed headers.
 * Only a redacted summary of it is.
 */
import { redactSecrets, SluiceError } from '../../errors.ts'

export type StorageOperation = 'list' | 'head' | 'read' | 'write'

/** What a backend knows about the failed request, whatever SDK it came from. */
export interface ServiceFailure {
  /** HTTP status, when the service answered. */
  status?: number
  /** The service's error code (`AccessDenied`, `AuthenticationFailed`, ...) or a network code (`ECONNREFUSED`). */
  code?: string
  message: string
}

export interface FailureContext {
  /** The full object URL, e.g. `s3://bucket/table/_delta_log/00000000000000000000.json`. */
  url: string
  operation: StorageOperation
  /** How to fix credentials or permissions on this cloud, one sentence. */
  credentialsFix: string
  /** Secret values to strip from anything the service said. */
  secrets: ReadonlyArray<string | undefined>
}

const operationText: Record<StorageOperation, string> = {
  list: 'listing',
  head: 'reading the metadata of',
  read: 'reading',
  write: 'writing',
}

const authCodes = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AuthenticationFailed',
  'AuthorizationFailure',
  'AuthorizationPermissionMismatch',
  'InvalidAuthenticationInfo',
])

/** No credentials could be found or obtained (the SDK's default chain came up empty). */
const noCredentialsCodes = new Set(['CredentialsProviderError', 'CredentialUnavailableError', 'AuthenticationRequiredError'])

const missingContainerCodes = new Set(['NoSuchBucket', 'ContainerNotFound', 'FilesystemNotFound'])

const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'TimeoutError', 'REQUEST_SEND_ERROR'])

export function storageError(context: FailureContext, failure: ServiceFailure): SluiceError {
  const said = redactSecrets(`${failure.code ?? 'error'}${failure.status === undefined ? '' : ` (HTTP ${failure.status})`}: ${failure.message}`, context.secrets)
  const cause = new Error(said)
  const what = `${operationText[context.operation]} ${context.url}`
  const code = failure.code ?? ''
  if (noCredentialsCodes.has(code)) {
    return new SluiceError('DELTA_STORAGE', `no credentials found ${what} (${said})`, { fix: context.credentialsFix, cause })
  }
  if (failure.status === 401 || failure.status === 403 || authCodes.has(code)) {
    return new SluiceError('DELTA_STORAGE', `access denied ${what} (${said})`, { fix: context.credentialsFix, cause })
  }
  if (missingContainerCodes.has(code)) {
    return new SluiceError('DELTA_STORAGE', `the bucket or container of ${context.url} does not exist (${said})`, {
      fix: 'Check the bucket (or container and account) in the table URI, and the endpoint and region it is read from.',
      cause,
    })
  }
  if (failure.status === 404 || code === 'NoSuchKey' || code === 'NotFound' || code === 'BlobNotFound') {
    return notFoundError(context.url, cause)
  }
  if (failure.status === 429 || (failure.status !== undefined && failure.status >= 500) || networkCodes.has(code)) {
    return new SluiceError('DELTA_STORAGE', `storage unavailable ${what} (${said})`, {
      fix: 'Retry; if it persists, check the endpoint is reachable from this host and the service is healthy.',
      cause,
      retriable: true,
    })
  }
  return new SluiceError('DELTA_STORAGE', `failed ${what} (${said})`, {
    fix: 'Check the table URI and the storage options (endpoint, region, account); the service error above names the cause.',
    cause,
  })
}

/** The object is not there: a wrong table path, or a file a VACUUM removed. */
function notFoundError(url: string, cause?: Error): SluiceError {
  return new SluiceError('DELTA_STORAGE', `object ${url} does not exist`, {
    fix: 'Check the table path; if a data file the log names is missing, the table was vacuumed past this version or copied incompletely.',
    cause,
  })
}

/** A range outside `0 <= start <= end` is the caller's bug; it is reported before any request. */
export function checkRange(url: string, start: number, end: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new SluiceError('DELTA_STORAGE', `invalid byte range [${start}, ${end}) for ${url}`, {
      fix: 'Ranges are [start, end) with 0 <= start <= end; this is a bug in the caller.',
    })
  }
}
