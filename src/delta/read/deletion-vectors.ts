/**
 * Deletion vectors (protocol "Deletion Vectors" and "Deletion Vector Format"): which rows of a data
 * file are deleted. Stored inline in the log (Z85 text), in a file named by a UUID relative to the
 * table root, or at an absolute path; the bytes are a magic number and a 64-bit RoaringBitmap (an
 * array of 32-bit RoaringBitmaps keyed by the high 32 bits of the row index).
 */
import { SluiceError } from '../../errors.ts'
import type { DeletionVectorDescriptor } from '../log/actions.ts'
import type { ObjectStore } from '../storage/object-store.ts'
import { tablePath } from './table-path.ts'

const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#'
const Z85_VALUES = new Map([...Z85].map((char, index) => [char, index]))
const PORTABLE_MAGIC = 1681511377
const NATIVE_MAGIC = 1681511376

/** Decodes Z85 text (a multiple of 5 characters) to bytes (4 per 5 characters). */
export function decodeZ85(text: string): Uint8Array {
  if (text.length % 5 !== 0) throw dvError(`Z85 text of length ${text.length} is not a multiple of 5`)
  const out = new Uint8Array((text.length / 5) * 4)
  for (let block = 0; block < text.length / 5; block++) {
    let value = 0
    for (let i = 0; i < 5; i++) {
      const digit = Z85_VALUES.get(text[block * 5 + i] ?? '')
      if (digit === undefined) throw dvError(`"${text[block * 5 + i]}" is not a Z85 character`)
      value = value * 85 + digit
    }
    new DataView(out.buffer).setUint32(block * 4, value, false)
  }
  return out
}

/** Row indexes a deletion vector marks deleted, as a membership test. */
export class DeletedRows {
  private readonly bits: Uint8Array
  readonly cardinality: number

  constructor(indexes: readonly number[]) {
    let max = -1
    for (const index of indexes) if (index > max) max = index
    if (max >= 2 ** 31) {
      throw new SluiceError('DELTA_UNSUPPORTED_FEATURE', `a deletion vector marks row ${max}; Sluice reads data files of up to 2^31 rows`, {
        fix: 'Rewrite the table\'s files smaller (OPTIMIZE) with the engine that wrote it.',
      })
    }
    this.bits = new Uint8Array((max >> 3) + 1)
    for (const index of indexes) this.bits[index >> 3]! |= 1 << (index & 7)
    this.cardinality = indexes.length
  }

  has(rowIndex: number): boolean {
    return ((this.bits[rowIndex >> 3] ?? 0) & (1 << (rowIndex & 7))) !== 0
  }

  /** The deleted indexes in ascending order. */
  *indexes(): Iterable<number> {
    for (let byte = 0; byte < this.bits.length; byte++) {
      const bits = this.bits[byte] ?? 0
      if (bits === 0) continue
      for (let bit = 0; bit < 8; bit++) if (bits & (1 << bit)) yield byte * 8 + bit
    }
  }
}

/** The relative path of a `u` deletion vector: `<random prefix>/deletion_vector_<uuid>.bin`. */
export function relativeDvPath(pathOrInlineDv: string): string {
  const encoded = pathOrInlineDv.slice(-20)
  const prefix = pathOrInlineDv.slice(0, -20)
  const hex = [...decodeZ85(encoded)].map((byte) => byte.toString(16).padStart(2, '0')).join('')
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  return `${prefix === '' ? '' : `${prefix}/`}deletion_vector_${uuid}.bin`
}

/** Loads the rows a descriptor deletes; `store` is the table's store (DV files live beside the data). */
export async function loadDeletionVector(store: ObjectStore, descriptor: DeletionVectorDescriptor): Promise<DeletedRows> {
  let bitmap: Uint8Array
  if (descriptor.storageType === 'i') {
    bitmap = decodeZ85(descriptor.pathOrInlineDv).subarray(0, descriptor.sizeInBytes)
  } else {
    const path = descriptor.storageType === 'u' ? relativeDvPath(descriptor.pathOrInlineDv) : tablePath(store, descriptor.pathOrInlineDv, 'a deletion vector')
    const offset = descriptor.offset ?? 1
    // On disk: [size: int32 BE][bitmap][crc32], starting at the descriptor's offset.
    const chunk = await store.readRange(path, offset, offset + 4 + descriptor.sizeInBytes)
    const size = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength).getInt32(0, false)
    if (size !== descriptor.sizeInBytes) throw dvError(`the deletion vector in ${path} at offset ${offset} has ${size} bytes, the log says ${descriptor.sizeInBytes}`)
    bitmap = chunk.subarray(4, 4 + size)
  }
  const rows = new DeletedRows(parseRoaringArray(bitmap))
  if (rows.cardinality !== descriptor.cardinality) {
    throw dvError(`a deletion vector holds ${rows.cardinality} rows, the log says ${descriptor.cardinality}`)
  }
  return rows
}

/**
 * A serialized RoaringBitmapArray as ascending row indexes. Two formats carry the magic number:
 * the portable one the protocol specifies (magic 1681511377, little endian, buckets keyed by their
 * high 32 bits) and the native one of the protocol's inline example (magic 1681511376, big-endian
 * header: a count, then each bitmap's size and bytes, bucket keys implicit 0, 1, 2, ...).
 */
export function parseRoaringArray(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: number[] = []
  if (view.getUint32(0, true) === PORTABLE_MAGIC) {
    const buckets = Number(view.getBigUint64(4, true))
    let offset = 12
    for (let bucket = 0; bucket < buckets; bucket++) {
      const high = view.getUint32(offset, true)
      offset = parseRoaring32(view, offset + 4, high * 2 ** 32, out)
    }
    return out
  }
  if (view.getUint32(0, false) === NATIVE_MAGIC) {
    const bitmaps = view.getInt32(4, false)
    let offset = 8
    for (let bucket = 0; bucket < bitmaps; bucket++) {
      const size = view.getInt32(offset, false)
      parseRoaring32(view, offset + 4, bucket * 2 ** 32, out)
      offset += 4 + size
    }
    return out
  }
  throw dvError(`unknown deletion vector format (magic number ${view.getUint32(0, true)})`)
}

const SERIAL_COOKIE_NO_RUNCONTAINER = 12346
const SERIAL_COOKIE = 12347
const NO_OFFSET_THRESHOLD = 4

/** One 32-bit RoaringBitmap (RoaringFormatSpec) at `start`; appends base + value; returns the end offset. */
function parseRoaring32(view: DataView, start: number, base: number, out: number[]): number {
  let offset = start
  const cookie = view.getUint32(offset, true)
  let containers: number
  let runFlags: Uint8Array | undefined
  if ((cookie & 0xffff) === SERIAL_COOKIE) {
    containers = (cookie >>> 16) + 1
    offset += 4
    const flagBytes = Math.ceil(containers / 8)
    runFlags = new Uint8Array(view.buffer, view.byteOffset + offset, flagBytes)
    offset += flagBytes
  } else if (cookie === SERIAL_COOKIE_NO_RUNCONTAINER) {
    containers = view.getUint32(offset + 4, true)
    offset += 8
  } else {
    throw dvError(`unknown RoaringBitmap cookie ${cookie}`)
  }
  const keys: number[] = []
  const cardinalities: number[] = []
  for (let i = 0; i < containers; i++) {
    keys.push(view.getUint16(offset, true))
    cardinalities.push(view.getUint16(offset + 2, true) + 1)
    offset += 4
  }
  if (runFlags === undefined || containers >= NO_OFFSET_THRESHOLD) offset += 4 * containers
  for (let i = 0; i < containers; i++) {
    const high = base + (keys[i] ?? 0) * 65536
    const cardinality = cardinalities[i] ?? 0
    const isRun = runFlags !== undefined && ((runFlags[i >> 3] ?? 0) & (1 << (i & 7))) !== 0
    if (isRun) {
      const runs = view.getUint16(offset, true)
      offset += 2
      for (let r = 0; r < runs; r++) {
        const value = view.getUint16(offset, true)
        const length = view.getUint16(offset + 2, true)
        offset += 4
        for (let v = value; v <= value + length; v++) out.push(high + v)
      }
    } else if (cardinality <= 4096) {
      for (let v = 0; v < cardinality; v++) out.push(high + view.getUint16(offset + 2 * v, true))
      offset += 2 * cardinality
    } else {
      for (let word = 0; word < 2048; word++) {
        const bits = view.getUint32(offset + 4 * word, true)
        if (bits === 0) continue
        for (let bit = 0; bit < 32; bit++) if (bits & (1 << bit)) out.push(high + word * 32 + bit)
      }
      offset += 8192
    }
  }
  return offset
}

function dvError(message: string): SluiceError {
  return new SluiceError('DELTA_PROTOCOL', `deletion vector unreadable: ${message}`, {
    fix: 'The deletion vector file or log entry is corrupt; rewrite the file (REORG TABLE ... APPLY (PURGE)) with the engine that wrote it.',
  })
}
