/**
 * One HTTP exchange with Databricks (or with a presigned storage URL it handed out), with the
 * retry and timeout policy: 429/503 and connection resets are retried with backoff honouring
 * Retry-After; each attempt has its own time limit, and the whole call has an overall one.
 * Uses Node's global fetch. The body is read inside the time limit, so a stalled download fails too.
 */
import { redactSecrets, SluiceError } from '../errors.ts'
import type { DatabricksLogger } from './config.ts'
import { isConnectionFailure, parseRetryAfter, RETRIABLE_STATUSES, retryDelayMs, sleep } from './retry.ts'

export interface HttpPolicy {
  requestTimeoutMs: number
  callTimeoutMs: number
  maxRetries: number
  retryBaseDelayMs: number
  logger: DatabricksLogger | undefined
}

export interface HttpCall {
  method: 'GET' | 'POST'
  url: string
  /** Names the call in logs and errors without any secret, e.g. "GET /api/2.0/sql/statements/01ef…". */
  what: string
  headers?: Record<string, string>
  body?: string
  signal?: AbortSignal
  /** Whether a request that timed out may be sent again (reads may; a statement submission may not). */
  idempotent: boolean
}

export interface HttpReply {
  status: number
  headers: Headers
  body: Uint8Array
}

export class HttpTransport {
  readonly #policy: HttpPolicy
  readonly #secrets: () => string[]

  constructor(policy: HttpPolicy, secrets: () => string[]) {
    this.#policy = policy
    this.#secrets = secrets
  }

  /** Sends the call, retrying what is retriable; returns the last reply (2xx or not). */
  async send(call: HttpCall): Promise<HttpReply> {
    const policy = this.#policy
    const deadline = Date.now() + policy.callTimeoutMs
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - Date.now()
      if (remaining <= 0) throw this.#timeout(call, `it did not finish within the call time limit of ${policy.callTimeoutMs} ms`)
      const attemptTimeout = AbortSignal.timeout(Math.min(policy.requestTimeoutMs, remaining))
      const signal = call.signal === undefined ? attemptTimeout : AbortSignal.any([call.signal, attemptTimeout])
      let retryReason: string
      let retryAfterMs: number | undefined
      try {
        const response = await fetch(call.url, { method: call.method, headers: call.headers, body: call.body, signal })
        const body = new Uint8Array(await response.arrayBuffer())
        if (!RETRIABLE_STATUSES.has(response.status) || attempt > policy.maxRetries) {
          return { status: response.status, headers: response.headers, body }
        }
        retryReason = `HTTP ${response.status}`
        retryAfterMs = parseRetryAfter(response.headers.get('retry-after'))
      } catch (error) {
        if (call.signal?.aborted === true) throw call.signal.reason
        if (attemptTimeout.aborted) {
          if (!call.idempotent || attempt > policy.maxRetries) {
            throw this.#timeout(call, `no complete answer within the request time limit of ${policy.requestTimeoutMs} ms`, error)
          }
          retryReason = `no answer within ${policy.requestTimeoutMs} ms`
        } else if (isConnectionFailure(error) && attempt <= policy.maxRetries) {
          retryReason = 'connection reset or refused'
        } else {
          throw new SluiceError('DATABRICKS_API', redactSecrets(`${call.what} could not reach Databricks: ${describe(error)}`, this.#secrets()), {
            fix: 'Check the host, the network path to it (proxy, firewall, DNS) and that the workspace is running.',
            cause: error,
            retriable: true,
          })
        }
      }
      const delay = retryDelayMs(attempt, policy.retryBaseDelayMs, retryAfterMs)
      if (Date.now() + delay > deadline) {
        throw this.#timeout(call, `it was still failing (${retryReason}) when the call time limit of ${policy.callTimeoutMs} ms ran out`)
      }
      policy.logger?.warn(`${call.what}: ${retryReason}; retry ${attempt} of ${policy.maxRetries} in ${delay} ms${retryAfterMs === undefined ? '' : ' (Retry-After)'}`)
      await sleep(delay, call.signal)
    }
  }

  #timeout(call: HttpCall, reason: string, cause?: unknown): SluiceError {
    return new SluiceError('DATABRICKS_TIMEOUT', redactSecrets(`${call.what} timed out: ${reason}`, this.#secrets()), {
      fix: 'Check the workspace is reachable and not overloaded; raise requestTimeoutMs / callTimeoutMs if large results need longer.',
      cause,
      retriable: true,
    })
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : ''
  return `${error.message}${cause}`
}
