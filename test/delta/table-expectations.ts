/**
 * Comparing what Sluice reads with what an independent writer read from the same table: Sluice's
 * values put into the same JSON form as test/fixtures/delta/normalize.py, and rows compared as
 * multisets (the writers do not promise an order).
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { DeltaTable, type DeltaValue } from '../../src/delta/index.ts'
import type { ExpectedTable, NormalizedRow } from '../fixtures/delta/fixtures.ts'

export function normalizeValue(value: DeltaValue | undefined): unknown {
  if (value === null || value === undefined) return null
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : value === Infinity ? 'Infinity' : value === -Infinity ? '-Infinity' : value
  if (value instanceof Uint8Array) return `b64:${Buffer.from(value).toString('base64')}`
  if (Array.isArray(value)) return value.map(normalizeValue)
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, normalizeValue(inner)]))
  return value
}

export function normalizeRow(row: Record<string, DeltaValue>): NormalizedRow {
  return Object.fromEntries(Object.entries(row).map(([key, value]) => [key, normalizeValue(value)]))
}

/** Canonical JSON (sorted keys), so two rows compare by content. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`
  }
  return JSON.stringify(value)
}

export function assertSameRows(actual: readonly NormalizedRow[], expected: readonly NormalizedRow[], what: string): void {
  const a = actual.map(canonical).sort()
  const e = expected.map(canonical).sort()
  assert.equal(a.length, e.length, `${what}: ${a.length} rows read, the writer read ${e.length}`)
  for (let i = 0; i < a.length; i++) assert.equal(a[i], e[i], `${what}: row ${i} (sorted) differs`)
}

/** Every version's snapshot equals the writer's read of it; the latest version agrees. */
export async function assertSnapshotsMatch(dir: string, name: string, expected: ExpectedTable): Promise<DeltaTable> {
  const table = await DeltaTable.open(join(dir, name))
  assert.equal(await table.latestVersion(), expected.latestVersion, `${name}: latest version`)
  for (const [version, rows] of Object.entries(expected.snapshots)) {
    const snapshot = await table.snapshot({ version: Number(version) })
    const read: NormalizedRow[] = []
    for await (const row of snapshot.scan().rows()) read.push(normalizeRow(row))
    assertSameRows(read, rows, `${name}@${version}`)
  }
  return table
}

/**
 * The change feed over the writer's range equals the writer's change feed. `timestampToleranceMs`:
 * writers that stamp `_commit_timestamp` from commitInfo.timestamp (delta-rs) rather than the commit
 * file's modification time (the protocol's commit time, which Spark and Sluice use) differ by the
 * time the write took; then timestamps are compared per version within that tolerance.
 */
export async function assertChangesMatch(table: DeltaTable, name: string, expected: ExpectedTable, timestampToleranceMs?: number): Promise<void> {
  assert.ok(expected.changes !== undefined, `${name} has an expected change feed`)
  const read: NormalizedRow[] = []
  for await (const row of table.changes({ fromVersion: expected.changes.from, toVersion: expected.changes.to })) read.push(normalizeRow(row))
  const what = `${name} changes ${expected.changes.from}..${expected.changes.to}`
  if (timestampToleranceMs === undefined) {
    assertSameRows(read, expected.changes.rows, what)
    return
  }
  const stamps = (rows: readonly NormalizedRow[]): Map<string, number> =>
    new Map(rows.map((row) => [String(row._commit_version), Date.parse(String(row._commit_timestamp).replace(/Z?$/, 'Z'))]))
  const ours = stamps(read)
  for (const [version, theirs] of stamps(expected.changes.rows)) {
    const mine = ours.get(version)
    assert.ok(mine !== undefined && Math.abs(mine - theirs) <= timestampToleranceMs, `${what}: commit timestamp of version ${version} (${mine} vs ${theirs})`)
  }
  const withoutTimestamp = (rows: readonly NormalizedRow[]): NormalizedRow[] => rows.map(({ _commit_timestamp: _, ...rest }) => rest)
  assertSameRows(withoutTimestamp(read), withoutTimestamp(expected.changes.rows), what)
}
