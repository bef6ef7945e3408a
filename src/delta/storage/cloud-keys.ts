/**
 * Object keys of a table in a bucket: every path the kernel uses is relative to the table root, and
 * its key is the root's prefix followed by the path. Cloud stores list keys in the byte order of
 * their UTF-8 encoding, so comparisons here use that order too (JavaScript's `<` compares UTF-16).
 */
import { SluiceError } from '../../errors.ts'

export class KeyPrefix {
  /** `''` for a table at the bucket's top, otherwise the folder with a trailing `/`, e.g. `tables/orders/`. */
  readonly prefix: string

  constructor(rootPath: string) {
    const trimmed = rootPath.replace(/^\/+|\/+$/g, '')
    this.prefix = trimmed === '' ? '' : `${trimmed}/`
  }

  key(path: string): string {
    if (path.startsWith('/')) {
      throw new SluiceError('DELTA_STORAGE', `object path "${path}" is absolute; paths are relative to the table root`, {
        fix: 'Pass paths relative to the table root (e.g. _delta_log/00000000000000000000.json); this is a bug in the caller.',
      })
    }
    return this.prefix + path
  }

  /** The path relative to the root of a key listed under this prefix. */
  path(key: string): string {
    return key.slice(this.prefix.length)
  }
}

/** Whether `a` sorts strictly after `b` in UTF-8 byte order, the order cloud stores list keys in. */
export function sortsAfter(a: string, b: string): boolean {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')) > 0
}

/** Whether two byte arrays hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}
