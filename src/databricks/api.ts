/**
 * Authenticated JSON calls to the workspace's REST API, and unauthenticated downloads of the
 * presigned URLs it hands out. A 401 with an OAuth token gets one retry with a fresh token (it may
 * have been revoked early); every other failure becomes a SluiceError naming the fix.
 */
import { redactSecrets, SluiceError } from '../errors.ts'
import { apiError } from './api-errors.ts'
import { credentialsFor, type Credentials } from './auth.ts'
import type { DatabricksConfig, DatabricksLogger } from './config.ts'
import { HttpTransport } from './http.ts'

export interface ApiRequest {
  method: 'GET' | 'POST'
  /** Path below the host, e.g. `/api/2.0/sql/statements`. */
  path: string
  body?: unknown
  signal?: AbortSignal
  /** Whether the call may be repeated after a timeout. Default: GET yes, POST no. */
  idempotent?: boolean
}

export class DatabricksApi {
  readonly host: string
  readonly credentials: Credentials
  readonly logger: DatabricksLogger | undefined
  readonly #transport: HttpTransport
  readonly #config: DatabricksConfig

  constructor(config: DatabricksConfig) {
    this.host = config.host
    this.#config = config
    this.logger = config.logger
    this.#transport = new HttpTransport(config, () => this.secrets())
    this.credentials = credentialsFor(config, this.#transport)
  }

  secrets(): string[] {
    return [...this.#config.secrets(), ...(this.credentials?.secrets() ?? [])]
  }

  async json<T>(request: ApiRequest): Promise<T> {
    const what = `${request.method} ${request.path}`
    for (let attempt = 1; ; attempt++) {
      const reply = await this.#transport.send({
        method: request.method,
        url: `${this.host}${request.path}`,
        what,
        headers: {
          authorization: await this.credentials.authorization(request.signal),
          accept: 'application/json',
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: request.signal,
        idempotent: request.idempotent ?? request.method !== 'POST',
      })
      if (reply.status === 401 && this.credentials.kind === 'oauth-m2m' && attempt === 1) {
        this.credentials.invalidate()
        continue
      }
      if (reply.status < 200 || reply.status >= 300) throw apiError(reply, what, this.credentials, this.secrets())
      const text = new TextDecoder().decode(reply.body)
      if (text.trim() === '') return {} as T
      try {
        return JSON.parse(text) as T
      } catch (error) {
        throw new SluiceError('DATABRICKS_API', redactSecrets(`${what} answered HTTP ${reply.status} with a body that is not JSON: ${text.slice(0, 200)}`, this.secrets()), {
          fix: 'Check the host points at the Databricks workspace itself, not a proxy or login page.',
          cause: error,
        })
      }
    }
  }

  /**
   * Downloads a presigned URL (a result chunk in cloud storage). It carries its own temporary
   * credential, so no Authorization header is sent — storage rejects requests that carry one —
   * and the URL itself is never put in a log or an error (`what` names it instead).
   */
  async download(url: string, headers: Record<string, string>, what: string, signal?: AbortSignal): Promise<Uint8Array> {
    const secrets = () => [...this.secrets(), url, new URL(url).search, ...Object.values(headers)]
    const reply = await new HttpTransport(this.#config, secrets).send({ method: 'GET', url, what, headers, signal, idempotent: true })
    if (reply.status < 200 || reply.status >= 300) {
      const body = redactSecrets(new TextDecoder().decode(reply.body).slice(0, 300), secrets())
      throw new SluiceError('DATABRICKS_API', `${what} failed with HTTP ${reply.status}: ${body}`, {
        fix: 'The presigned link may have expired or the storage may be unreachable from here; rerun the statement, and check network access to the workspace storage.',
        retriable: true,
      })
    }
    return reply.body
  }
}
