/**
 * Turns a failed Databricks response into a SluiceError that says what the user must fix. Databricks
 * answers errors as `{"error_code": "...", "message": "..."}`; its OAuth endpoint as
 * `{"error": "...", "error_description": "..."}`.
 */
import { redactSecrets, SluiceError } from '../errors.ts'

export interface FailedResponse {
  status: number
  body: Uint8Array
}

/** Who is calling, so an authentication error can name the credential to check. */
export interface CallerIdentity {
  kind: 'pat' | 'oauth-m2m'
  origin: string
}

export function errorDetail(response: FailedResponse): { errorCode: string | undefined; message: string } {
  const text = new TextDecoder().decode(response.body).trim()
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>
    const errorCode = stringField(parsed.error_code) ?? stringField(parsed.error)
    const message = stringField(parsed.message) ?? stringField(parsed.error_description) ?? text
    return { errorCode, message }
  } catch {
    return { errorCode: undefined, message: text.slice(0, 500) || '(empty body)' }
  }
}

/** The SluiceError for a Databricks API response with a non-2xx status. `what` names the call, e.g. "GET /api/2.1/unity-catalog/tables/a.b.c". */
export function apiError(response: FailedResponse, what: string, caller: CallerIdentity, secrets: string[]): SluiceError {
  const { errorCode, message } = errorDetail(response)
  const shownCode = errorCode === undefined || errorCode === String(response.status) ? '' : ` ${errorCode}`
  const detail = redactSecrets(`${what} failed with HTTP ${response.status}${shownCode}: ${message}`, secrets)
  // Databricks answers an unknown or expired token with 403 "Invalid access token", not 401.
  const credentialRejected = response.status === 401 || (response.status === 403 && /invalid access token|token is expired|invalid token/i.test(message))
  const credential = caller.kind === 'pat' ? `the personal access token from ${caller.origin}` : `the OAuth service principal from ${caller.origin}`
  switch (true) {
    case credentialRejected:
      return new SluiceError('DATABRICKS_AUTH', `Databricks did not accept ${credential}: ${detail}`, {
        fix: caller.kind === 'pat'
          ? `Check ${caller.origin}: the token may be mistyped, expired or revoked; create a new one under Settings → Developer → Access tokens.`
          : `Check ${caller.origin}: the client id or OAuth secret may be wrong or the secret expired; create a new secret for the service principal.`,
      })
    case response.status === 403:
      return new SluiceError('DATABRICKS_AUTH', `Databricks refused ${credential}: ${detail}`, {
        fix: `Check that ${caller.origin} is a valid credential for this workspace and that its identity has the permission named above (ask a workspace or metastore admin to grant it).`,
      })
    case response.status === 404:
      return new SluiceError('DATABRICKS_API', `Not found: ${detail}`, {
        fix: 'Check the name or id in the request (catalog.schema.table, statement id, warehouse id) and that your identity can see it.',
      })
    case response.status === 400 || response.status === 409 || response.status === 413:
      return new SluiceError('DATABRICKS_API', `Databricks rejected the request: ${detail}`, {
        fix: 'Fix the parameter the message names.',
      })
    case response.status === 429 || response.status >= 500:
      return new SluiceError('DATABRICKS_API', `Databricks is throttling or unavailable: ${detail}`, {
        fix: 'Sluice already retried with backoff; wait and retry, lower concurrency, or check the workspace status page.',
        retriable: true,
      })
    default:
      return new SluiceError('DATABRICKS_API', `Unexpected Databricks response: ${detail}`, {
        fix: 'Check the host points at a Databricks workspace (not a proxy or login page).',
      })
  }
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}
