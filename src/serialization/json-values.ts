/** What JSON.stringify cannot write by itself: bigints (as exact JSON integers) and Buffers (as base64). */

/** ES2024's JSON.rawJSON (Node 21+), not yet in TypeScript's lib. */
const rawJSON = (text: string): unknown => (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(text)

/** JSON.stringify replacer: bigints as exact integers, Buffers as base64 (Dates already have toJSON). */
export function jsonReplacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const original = this[key]
  if (Buffer.isBuffer(original)) return original.toString('base64')
  if (typeof value === 'bigint') return rawJSON(value.toString())
  return value
}
