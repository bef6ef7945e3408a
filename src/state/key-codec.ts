/**
 * Message keys as state sees them: any key (string, Buffer, null, number, object) becomes bytes
 * that tell keys of different kinds apart, and comes back as it was.
 */

/** A message key as bytes and back: how key-scoped state and windows keep the keys of records. */
export interface KeyCodec<K> {
  encode(key: K): Buffer
  decode(bytes: Buffer): K
}

const NULL_TAG = 0
const BYTES_TAG = 1
const STRING_TAG = 2
const JSON_TAG = 3

/** Keeps null, Buffers and strings as they are and any other key as JSON (numbers, objects…). */
export const defaultKeyCodec: KeyCodec<unknown> = {
  encode(key) {
    if (key == null) return Buffer.of(NULL_TAG)
    if (Buffer.isBuffer(key)) return Buffer.concat([Buffer.of(BYTES_TAG), key])
    if (typeof key === 'string') return Buffer.concat([Buffer.of(STRING_TAG), Buffer.from(key, 'utf8')])
    return Buffer.concat([Buffer.of(JSON_TAG), Buffer.from(JSON.stringify(key), 'utf8')])
  },
  decode(bytes) {
    const body = bytes.subarray(1)
    switch (bytes[0]) {
      case NULL_TAG:
        return null
      case BYTES_TAG:
        return Buffer.from(body)
      case STRING_TAG:
        return body.toString('utf8')
      default:
        return JSON.parse(body.toString('utf8')) as unknown
    }
  },
}
