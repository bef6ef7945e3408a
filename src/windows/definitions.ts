/**
 * Window definitions, with Kafka Streams' semantics. Times are milliseconds of event time.
 *
 * - tumbling(size): fixed, non-overlapping, epoch-aligned windows [start, start + size).
 * - hopping(size, advance): fixed windows [start, start + size) starting every `advance` ms;
 *   a record belongs to size / advance of them. Windows start at 0 or later, as in Kafka Streams.
 * - sliding(timeDifference): windows [start, start + timeDifference], both ends inclusive, made by
 *   the records themselves (KIP-450): each record opens the window ending at it, and the window
 *   starting just after it once a later record falls there. Only windows holding records exist.
 * - session(inactivityGap): per key, records closer than the gap form one session [first, last];
 *   a record that bridges two sessions merges them.
 *
 * Grace: a window accepts records until stream time (the highest timestamp seen on the
 * partition) passes its end by `grace`; later records for it are late and dropped.
 */
import { SluiceError } from '../errors.ts'

export interface WindowOptions {
  /** How long after a window's end out-of-order records are still accepted, ms. Default 0. */
  grace?: number
}

export interface TumblingWindows {
  readonly kind: 'tumbling'
  readonly size: number
  readonly grace: number
}

export interface HoppingWindows {
  readonly kind: 'hopping'
  readonly size: number
  readonly advance: number
  readonly grace: number
}

export interface SlidingWindows {
  readonly kind: 'sliding'
  readonly timeDifference: number
  readonly grace: number
}

export interface SessionWindows {
  readonly kind: 'session'
  readonly inactivityGap: number
  readonly grace: number
}

export type WindowDefinition = TumblingWindows | HoppingWindows | SlidingWindows | SessionWindows

export function tumbling(size: number, options: WindowOptions = {}): TumblingWindows {
  return { kind: 'tumbling', size: duration('tumbling window size', size), grace: grace(options) }
}

export function hopping(size: number, advance: number, options: WindowOptions = {}): HoppingWindows {
  duration('hopping window size', size)
  duration('hopping window advance', advance)
  if (advance > size) {
    throw new SluiceError('CONFIG_INVALID', `Hopping window advance ${advance} ms is larger than its size ${size} ms`, {
      fix: 'Use an advance of at most the size (equal to the size is a tumbling window).',
    })
  }
  return { kind: 'hopping', size, advance, grace: grace(options) }
}

export function sliding(timeDifference: number, options: WindowOptions = {}): SlidingWindows {
  return { kind: 'sliding', timeDifference: duration('sliding window time difference', timeDifference), grace: grace(options) }
}

export function session(inactivityGap: number, options: WindowOptions = {}): SessionWindows {
  return { kind: 'session', inactivityGap: duration('session inactivity gap', inactivityGap), grace: grace(options) }
}

/** The starts of the tumbling or hopping windows holding `timestamp`, oldest first. */
export function windowStarts(windows: TumblingWindows | HoppingWindows, timestamp: number): number[] {
  const advance = windows.kind === 'tumbling' ? windows.size : windows.advance
  const starts: number[] = []
  let start = Math.max(0, floorToMultiple(timestamp - windows.size + advance, advance))
  for (; start <= timestamp; start += advance) starts.push(start)
  return starts
}

function floorToMultiple(value: number, step: number): number {
  return Math.floor(value / step) * step
}

function duration(what: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new SluiceError('CONFIG_INVALID', `The ${what} must be a whole number of milliseconds above 0, got ${value}`, {
      fix: `Pass the ${what} in milliseconds, e.g. 10_000 for 10 seconds.`,
    })
  }
  return value
}

function grace(options: WindowOptions): number {
  const value = options.grace ?? 0
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SluiceError('CONFIG_INVALID', `The window grace period must be a whole number of milliseconds of 0 or more, got ${value}`, {
      fix: 'Pass grace in milliseconds, e.g. { grace: 1000 }.',
    })
  }
  return value
}
