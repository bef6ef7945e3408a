/**
 * Late records: dropped because every window they belong to has closed. They are counted, and
 * logged at most once per interval per window operation, with how many were dropped since the
 * last line, so that a flood of late data cannot flood the logs.
 */

export interface LateRecordLogger {
  warn(message: string): void
}

export class LateRecordLog {
  /** Late records since this operation started on this partition. */
  total = 0
  readonly #describe: string
  readonly #logger: LateRecordLogger | undefined
  readonly #intervalMs: number
  readonly #now: () => number
  #unlogged = 0
  #lastLogAt = Number.NEGATIVE_INFINITY

  constructor(describe: string, logger: LateRecordLogger | undefined, intervalMs: number, now: () => number) {
    this.#describe = describe
    this.#logger = logger
    this.#intervalMs = intervalMs
    this.#now = now
  }

  record(timestamp: number, streamTime: number, grace: number): void {
    this.total++
    this.#unlogged++
    if (this.#logger === undefined) return
    const now = this.#now()
    if (now - this.#lastLogAt < this.#intervalMs) return
    this.#logger.warn(
      `${this.#describe}: dropped ${this.#unlogged} late record(s) since the last report (latest at ${timestamp}, stream time ${streamTime}, grace ${grace} ms); ${this.total} in all. Raise the grace period to accept later records.`,
    )
    this.#unlogged = 0
    this.#lastLogAt = now
  }
}
