/** Timing and throughput arithmetic shared by the benchmarks. */

/** Milliseconds on a monotonic clock. */
export function now(): number {
  return performance.now()
}

export interface Throughput {
  messages: number
  bytes: number
  seconds: number
  msgsPerSecond: number
  /** Megabytes (10^6 bytes) per second. */
  megabytesPerSecond: number
}

export function throughput(messages: number, bytes: number, elapsedMs: number): Throughput {
  if (!(elapsedMs > 0)) throw new Error(`elapsed time must be positive, got ${elapsedMs} ms`)
  const seconds = elapsedMs / 1000
  return { messages, bytes, seconds, msgsPerSecond: messages / seconds, megabytesPerSecond: bytes / 1e6 / seconds }
}

export function describeThroughput(t: Throughput): string {
  return `${t.messages.toLocaleString('en-US')} msgs in ${t.seconds.toFixed(2)} s = ${Math.round(t.msgsPerSecond).toLocaleString('en-US')} msg/s, ${t.megabytesPerSecond.toFixed(1)} MB/s`
}

/**
 * Keeps `inFlight` calls of `sendBatch` running until `total` items are sent, in batches of
 * `batchSize` taken in order. Resolves when every batch resolved; rejects on the first failure.
 */
export async function sendInBatches(
  total: number,
  batchSize: number,
  inFlight: number,
  sendBatch: (first: number, count: number) => Promise<void>,
): Promise<void> {
  let next = 0
  let failed = false
  const lane = async (): Promise<void> => {
    while (next < total && !failed) {
      const first = next
      const count = Math.min(batchSize, total - first)
      next += count
      try {
        await sendBatch(first, count)
      } catch (error) {
        failed = true
        throw error
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, inFlight) }, lane))
}

/**
 * A promise that rejects when `progress()` reports no change for `stallMs`: a consumer that stops
 * receiving fails the benchmark with a clear message instead of hanging it.
 */
export function stallWatchdog(stallMs: number, progress: () => number, describe: () => string): { promise: Promise<never>; stop: () => void } {
  let last = progress()
  let lastChange = now()
  let reject: (error: Error) => void = () => undefined
  const promise = new Promise<never>((_, rejectPromise) => {
    reject = rejectPromise
  })
  const timer = setInterval(() => {
    const current = progress()
    if (current !== last) {
      last = current
      lastChange = now()
    } else if (now() - lastChange > stallMs) {
      clearInterval(timer)
      reject(new Error(`no progress for ${stallMs / 1000} s: ${describe()}`))
    }
  }, 250)
  return { promise, stop: () => clearInterval(timer) }
}
