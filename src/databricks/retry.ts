/**
 * When to try a Databricks call again, and how long to wait first: 429 (rate limited) and 503
 * (temporarily unavailable) are retried, as are connections the server reset; the wait is the
 * server's Retry-After when it gives one, else exponential backoff with full jitter.
 */

export const RETRIABLE_STATUSES: ReadonlySet<number> = new Set([429, 503])

/** Longest wait between two attempts, whatever Retry-After says (Databricks asks for seconds, not hours). */
const MAX_DELAY_MS = 60_000

/** Milliseconds to wait, from a Retry-After header: delta-seconds or an HTTP date. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined
  const trimmed = header.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** The wait before retry number `retry` (1-based): Retry-After if given, else base·2^(retry-1) with full jitter. */
export function retryDelayMs(retry: number, baseMs: number, retryAfterMs: number | undefined, random = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, MAX_DELAY_MS)
  const ceiling = Math.min(baseMs * 2 ** (retry - 1), MAX_DELAY_MS)
  // Full jitter, but never less than half the ceiling, so a burst of clients spreads out yet still backs off.
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}

/** Whether a fetch failure is a connection the peer reset or dropped (worth retrying), not a bad request. */
export function isConnectionFailure(error: unknown): boolean {
  const codes = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ETIMEDOUT', 'EAI_AGAIN'])
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    const code = (current as NodeJS.ErrnoException).code
    if (code !== undefined && codes.has(code)) return true
    if (current.name === 'TypeError' && current.message === 'fetch failed' && current.cause === undefined) return true
  }
  return false
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason as Error)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal!.reason as Error)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
