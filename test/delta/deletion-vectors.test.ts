/**
 * Deletion vector decoding against the protocol's own examples and hand-built bitmaps in the
 * RoaringBitmap portable format (array, bitmap and run containers, more than one 32-bit bucket).
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { LocalObjectStore } from '../../src/delta/index.ts'
import { decodeZ85, loadDeletionVector, parseRoaringArray, relativeDvPath } from '../../src/delta/read/deletion-vectors.ts'

test('the protocol\'s inline example decodes to rows 3, 4, 7, 11, 18, 29', async () => {
  const store = new LocalObjectStore(tmpdir())
  const rows = await loadDeletionVector(store, { storageType: 'i', pathOrInlineDv: 'wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L', sizeInBytes: 40, cardinality: 6 })
  assert.deepEqual([...rows.indexes()], [3, 4, 7, 11, 18, 29])
  assert.ok(rows.has(29) && !rows.has(5))
})

test('the protocol\'s relative-path example resolves to its UUID-named file under the random prefix', () => {
  assert.equal(relativeDvPath('ab^-aqEH.-t@S}K{vb[*k^'), 'ab/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin')
})

test('Z85 decodes the ZeroMQ reference vector', () => {
  assert.deepEqual([...decodeZ85('HelloWorld')], [0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b])
})

/** A 32-bit RoaringBitmap with run containers allowed (cookie 12347) or not (12346). */
function roaring32(containers: { key: number; kind: 'array' | 'bitmap' | 'run'; values: number[] }[]): Buffer {
  const hasRun = containers.some((c) => c.kind === 'run')
  const parts: Buffer[] = []
  const header = Buffer.alloc(hasRun ? 4 + Math.ceil(containers.length / 8) : 8)
  if (hasRun) {
    header.writeUInt32LE(12347 | ((containers.length - 1) << 16), 0)
    containers.forEach((c, i) => {
      if (c.kind === 'run') header[4 + (i >> 3)]! |= 1 << (i & 7)
    })
  } else {
    header.writeUInt32LE(12346, 0)
    header.writeUInt32LE(containers.length, 4)
  }
  parts.push(header)
  const descriptive = Buffer.alloc(4 * containers.length)
  containers.forEach((c, i) => {
    descriptive.writeUInt16LE(c.key, 4 * i)
    descriptive.writeUInt16LE(c.values.length - 1, 4 * i + 2)
  })
  parts.push(descriptive)
  const bodies = containers.map((c) => {
    if (c.kind === 'array') {
      const body = Buffer.alloc(2 * c.values.length)
      c.values.forEach((v, i) => body.writeUInt16LE(v, 2 * i))
      return body
    }
    if (c.kind === 'bitmap') {
      const body = Buffer.alloc(8192)
      for (const v of c.values) body[v >> 3]! |= 1 << (v & 7)
      return body
    }
    // One run per contiguous stretch: [start, length - 1].
    const runs: [number, number][] = []
    for (const v of c.values) {
      const last = runs.at(-1)
      if (last !== undefined && last[0] + last[1] + 1 === v) last[1]++
      else runs.push([v, 0])
    }
    const body = Buffer.alloc(2 + 4 * runs.length)
    body.writeUInt16LE(runs.length, 0)
    runs.forEach(([start, length], i) => {
      body.writeUInt16LE(start, 2 + 4 * i)
      body.writeUInt16LE(length, 4 + 4 * i)
    })
    return body
  })
  if (!hasRun || containers.length >= 4) {
    const offsets = Buffer.alloc(4 * containers.length)
    let at = parts.reduce((sum, p) => sum + p.length, 0) + offsets.length
    bodies.forEach((body, i) => {
      offsets.writeUInt32LE(at, 4 * i)
      at += body.length
    })
    parts.push(offsets)
  }
  return Buffer.concat([...parts, ...bodies])
}

function portable(buckets: { high: number; bitmap: Buffer }[]): Buffer {
  const head = Buffer.alloc(12)
  head.writeUInt32LE(1681511377, 0)
  head.writeBigUInt64LE(BigInt(buckets.length), 4)
  return Buffer.concat([head, ...buckets.flatMap(({ high, bitmap }) => [Buffer.from(Uint32Array.of(high).buffer), bitmap])])
}

test('array, bitmap and run containers in several buckets decode to the same rows', () => {
  const dense = Array.from({ length: 5000 }, (_, i) => i * 13) // more than 4096 values: a bitmap container
  const run = Array.from({ length: 300 }, (_, i) => 1000 + i)
  const bytes = portable([
    { high: 0, bitmap: roaring32([{ key: 0, kind: 'array', values: [1, 5, 65535] }, { key: 1, kind: 'bitmap', values: dense }, { key: 2, kind: 'run', values: run }]) },
    { high: 1, bitmap: roaring32([{ key: 0, kind: 'array', values: [7] }]) },
  ])
  const expected = [1, 5, 65535, ...dense.map((v) => 65536 + v), ...run.map((v) => 2 * 65536 + v), 2 ** 32 + 7]
  assert.deepEqual(parseRoaringArray(bytes), expected)
})

test('a vector stored in a file is read at its offset, and a wrong cardinality is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dv-'))
  try {
    const bitmap = portable([{ high: 0, bitmap: roaring32([{ key: 0, kind: 'array', values: [2, 9] }]) }])
    const size = Buffer.alloc(4)
    size.writeInt32BE(bitmap.length, 0)
    // File format: version byte, then [size BE][bitmap][crc] per vector.
    await writeFile(join(dir, 'ab', 'deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin').replace('/ab/', '/'), Buffer.concat([Buffer.from([1]), size, bitmap, Buffer.alloc(4)]))
    const store = new LocalObjectStore(dir)
    const descriptor = { storageType: 'u' as const, pathOrInlineDv: 'ab^-aqEH.-t@S}K{vb[*k^'.slice(2), offset: 1, sizeInBytes: bitmap.length, cardinality: 2 }
    const rows = await loadDeletionVector(store, descriptor)
    assert.deepEqual([...rows.indexes()], [2, 9])
    await assert.rejects(loadDeletionVector(store, { ...descriptor, cardinality: 3 }), { code: 'DELTA_PROTOCOL' })
    const absolute = await loadDeletionVector(store, { ...descriptor, storageType: 'p', pathOrInlineDv: `file://${dir}/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin` })
    assert.deepEqual([...absolute.indexes()], [2, 9])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
