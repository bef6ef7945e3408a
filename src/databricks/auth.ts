/**
 * The Authorization header of Databricks API calls. A personal access token is sent as it is; an
 * OAuth service principal (machine-to-machine) exchanges its client id and secret for an access
 * token at `{host}/oidc/v1/token` (client credentials grant, scope `all-apis`), which is cached
 * and refreshed shortly before it expires. Concurrent callers share one refresh.
 */
import { redactSecrets, SluiceError } from '../errors.ts'
import { errorDetail, type CallerIdentity } from './api-errors.ts'
import type { DatabricksConfig } from './config.ts'
import type { HttpTransport } from './http.ts'

export interface Credentials extends CallerIdentity {
  /** The value of the Authorization header. */
  authorization(signal?: AbortSignal): Promise<string>
  /** Forgets a cached token the server has just rejected, so the next call fetches a new one. */
  invalidate(): void
  /** Every secret these credentials hold now, for redaction. */
  secrets(): string[]
}

export function credentialsFor(config: DatabricksConfig, transport: HttpTransport): Credentials {
  const auth = config.auth
  if (auth.kind === 'pat') {
    return {
      kind: 'pat',
      origin: auth.origin,
      authorization: () => Promise.resolve(`Bearer ${auth.token}`),
      invalidate: () => {},
      secrets: () => [auth.token],
    }
  }
  return new OAuthMachineToMachine(config.host, auth.clientId, auth.clientSecret, auth.origin, transport)
}

/** How long before expiry a cached token is replaced: a minute, or a quarter of a short lifetime. */
const REFRESH_MARGIN_MS = 60_000

interface CachedToken {
  accessToken: string
  refreshAt: number
}

class OAuthMachineToMachine implements Credentials {
  readonly kind = 'oauth-m2m'
  readonly origin: string
  readonly #host: string
  readonly #clientId: string
  readonly #clientSecret: string
  readonly #transport: HttpTransport
  #token: CachedToken | undefined
  #refreshing: Promise<CachedToken> | undefined

  constructor(host: string, clientId: string, clientSecret: string, origin: string, transport: HttpTransport) {
    this.#host = host
    this.#clientId = clientId
    this.#clientSecret = clientSecret
    this.origin = origin
    this.#transport = transport
  }

  async authorization(signal?: AbortSignal): Promise<string> {
    const cached = this.#token
    if (cached !== undefined && Date.now() < cached.refreshAt) return `Bearer ${cached.accessToken}`
    this.#refreshing ??= this.#fetchToken(signal).finally(() => (this.#refreshing = undefined))
    const token = await this.#refreshing
    return `Bearer ${token.accessToken}`
  }

  invalidate(): void {
    this.#token = undefined
  }

  secrets(): string[] {
    return this.#token === undefined ? [this.#clientSecret] : [this.#clientSecret, this.#token.accessToken]
  }

  async #fetchToken(signal?: AbortSignal): Promise<CachedToken> {
    const basic = Buffer.from(`${encodeURIComponent(this.#clientId)}:${encodeURIComponent(this.#clientSecret)}`).toString('base64')
    const what = 'POST /oidc/v1/token (OAuth client credentials)'
    const reply = await this.#transport.send({
      method: 'POST',
      url: `${this.#host}/oidc/v1/token`,
      what,
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'all-apis' }).toString(),
      signal,
      idempotent: true,
    })
    const secrets = [this.#clientSecret, basic]
    if (reply.status < 200 || reply.status >= 300) {
      const { errorCode, message } = errorDetail(reply)
      throw new SluiceError('DATABRICKS_AUTH', redactSecrets(`Databricks did not issue an OAuth token to the service principal from ${this.origin}: ${what} answered HTTP ${reply.status}${errorCode === undefined ? '' : ` ${errorCode}`}: ${message}`, secrets), {
        fix: `Check ${this.origin}: the client id must be the service principal's application id and the secret one of its unexpired OAuth secrets (Settings → Identity and access → Service principals → Secrets).`,
        retriable: reply.status >= 500 || reply.status === 429,
      })
    }
    const body = JSON.parse(new TextDecoder().decode(reply.body)) as { access_token?: unknown; expires_in?: unknown }
    if (typeof body.access_token !== 'string' || body.access_token === '') {
      throw new SluiceError('DATABRICKS_AUTH', `${what} answered without an access_token`, {
        fix: 'Check the host is a Databricks workspace URL (its /oidc/v1/token endpoint issues the tokens).',
      })
    }
    const lifetimeMs = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : 3_600_000
    const token = { accessToken: body.access_token, refreshAt: Date.now() + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 4) }
    this.#token = token
    return token
  }
}
