/**
 * Structured logs (pino, JSON lines on stderr). Every module logs through a child of the
 * application's logger, so lines carry the module's name; nothing logs secrets.
 */
import { pino, type Logger } from 'pino'

export type { Logger }

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

/** A logger writing JSON lines to stderr at `level` (default `SLUICE_LOG_LEVEL`, else `info`). */
export function createLogger(level?: LogLevel): Logger {
  return pino({ level: level ?? process.env.SLUICE_LOG_LEVEL ?? 'info', base: { app: 'sluice' } }, pino.destination(2))
}

/**
 * Logs a recurring problem (late records, skipped records) at most once per `intervalMs`, with
 * how many times it happened since the last line, so a flood of bad input cannot flood the log.
 */
export class RateLimitedLog {
  readonly #log: (count: number, detail: Record<string, unknown>) => void
  readonly #intervalMs: number
  #lastLoggedAt = Number.NEGATIVE_INFINITY
  #unlogged = 0

  constructor(log: (count: number, detail: Record<string, unknown>) => void, intervalMs = 10_000) {
    this.#log = log
    this.#intervalMs = intervalMs
  }

  record(detail: Record<string, unknown>): void {
    this.#unlogged++
    const now = Date.now()
    if (now - this.#lastLoggedAt < this.#intervalMs) return
    this.#log(this.#unlogged, detail)
    this.#unlogged = 0
    this.#lastLoggedAt = now
  }
}
