/**
 * How window state is laid out in a PartitionStore. All keys sort as bytes, so LMDB keeps:
 *   'T'                                  -> stream time of the partition (the highest timestamp seen)
 *   'W' keyLength key start              -> [end, highest record timestamp, accumulator] of one window
 *   'C' closeAt keyLength key start      -> the close index, ordered by when windows close, so
 *                                           closing is a range read from the lowest entry; the value
 *                                           says what to do then: 0 close (emit), 1 only remove
 * Times are 8-byte big-endian with the sign bit flipped, so that byte order is number order.
 */

export const STREAM_TIME_KEY = Buffer.from('T')
const WINDOW = 0x57 // 'W'
const CLOSE = 0x43 // 'C'
const TIME_BYTES = 8
const SIGN = 0x80000000
const TWO_32 = 2 ** 32

function writeTime(target: Buffer, offset: number, time: number): void {
  const high = Math.floor(time / TWO_32)
  target.writeUInt32BE((high + SIGN) >>> 0, offset)
  target.writeUInt32BE(time - high * TWO_32, offset + 4)
}

function readTime(source: Buffer, offset: number): number {
  const high = ((source.readUInt32BE(offset) - SIGN) | 0) * TWO_32
  return high + source.readUInt32BE(offset + 4)
}

/** 'W' keyLength key start */
export function windowKey(key: Buffer, start: number): Buffer {
  const bytes = Buffer.allocUnsafe(5 + key.length + TIME_BYTES)
  bytes[0] = WINDOW
  bytes.writeUInt32BE(key.length, 1)
  key.copy(bytes, 5)
  writeTime(bytes, 5 + key.length, start)
  return bytes
}

/** The window start held by a window key. */
export function startOfWindowKey(bytes: Buffer): number {
  return readTime(bytes, bytes.length - TIME_BYTES)
}

/** 'C' closeAt keyLength key start */
export function closeIndexKey(closeAt: number, key: Buffer, start: number): Buffer {
  const bytes = Buffer.allocUnsafe(1 + TIME_BYTES + 4 + key.length + TIME_BYTES)
  bytes[0] = CLOSE
  writeTime(bytes, 1, closeAt)
  bytes.writeUInt32BE(key.length, 1 + TIME_BYTES)
  key.copy(bytes, 1 + TIME_BYTES + 4)
  writeTime(bytes, 1 + TIME_BYTES + 4 + key.length, start)
  return bytes
}

/** The close time, key and window start of a close index key. */
export function parseCloseIndexKey(bytes: Buffer): { closeAt: number; key: Buffer; start: number } {
  const keyLength = bytes.readUInt32BE(1 + TIME_BYTES)
  return {
    closeAt: readTime(bytes, 1),
    key: bytes.subarray(1 + TIME_BYTES + 4, 1 + TIME_BYTES + 4 + keyLength),
    start: readTime(bytes, 1 + TIME_BYTES + 4 + keyLength),
  }
}

/** The first possible close index key with closeAt >= `time`. */
export function closeIndexFrom(time: number): Buffer {
  const bound = Buffer.allocUnsafe(1 + TIME_BYTES)
  bound[0] = CLOSE
  writeTime(bound, 1, time)
  return bound
}

/** The whole close index. */
export function closeIndexRange(): [Buffer, Buffer] {
  return [Buffer.of(CLOSE), Buffer.of(CLOSE + 1)]
}
