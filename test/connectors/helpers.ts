/**
 * What the source connector's tests share: changes as comparable records, the check that a topic
 * holds exactly a change feed, and the Delta source as a child process to kill.
 */
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { SourceRunner, type DeltaOffset } from '../../src/connectors/index.ts'
import type { ConsumedMessage } from '../../src/kafka/index.ts'
import { exited, startChild } from '../helpers/child-process.ts'

export interface Change {
  type: string
  version: number
  id: number
  row: Record<string, unknown>
}

/** What the topic holds, in the same shape; snapshot rows of version 0 are its inserts. */
export function publishedChanges(messages: ConsumedMessage[]): Change[] {
  return messages.map((message) => {
    const type = message.headers.get('sluice.change_type')?.toString() ?? ''
    const row = JSON.parse(message.value?.toString() ?? 'null') as Record<string, unknown>
    return { type: type === 'snapshot' ? 'insert' : type, version: Number(message.headers.get('sluice.commit_version')?.toString()), id: Number(row.id), row }
  })
}

/** A change as comparable text: its version, type, and every table column (numbers as numbers, whichever way the writer printed them). */
function canonical(change: Change): string {
  const columns = Object.entries(change.row)
    .filter(([name]) => !name.startsWith('_'))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => [name, typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value])
  return JSON.stringify([change.version, change.type, change.id, columns])
}

/** Equal as multisets, and in the same order for every key (all changes of a key are on one partition). */
export function assertSameChanges(actual: Change[], expected: Change[]): void {
  assert.equal(actual.length, expected.length, `${actual.length} records published for ${expected.length} changes`)
  assert.deepEqual(actual.map(canonical).sort(), expected.map(canonical).sort())
  const perKey = (changes: Change[]) => {
    const byKey = new Map<number, string[]>()
    for (const change of changes) byKey.set(change.id, [...(byKey.get(change.id) ?? []), `${change.version}:${change.type}`])
    return byKey
  }
  // A writer may list its feed in any order (Spark does): a key's changes are in commit order.
  const expectedPerKey = perKey([...expected].sort((a, b) => a.version - b.version))
  for (const [id, sequence] of perKey(actual)) assert.deepEqual(sequence, expectedPerKey.get(id), `changes of id ${id} in order`)
}

/** The source as a child process (test/apps/delta-source.ts); `started` resolves when it began reading. */
export function startSourceProcess(env: Record<string, string>): { process: ChildProcess; started: Promise<void> } {
  const { child, ready } = startChild('test/apps/delta-source.ts', env, ['"msg":"source starting', '"msg":"source resuming'])
  return { process: child, started: ready }
}

export async function exitOf(child: ChildProcess): Promise<void> {
  await exited(child)
}

export async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, `timed out waiting until ${what}`)
    await sleep(100)
  }
}

/**
 * Waits until the Delta source of `topic` in application `applicationId` has committed every
 * version up to `latestVersion`: its offset, read from the offsets topic as a restart would, is
 * in the change phase past that version.
 */
export async function untilSourceCommitted(brokers: string[], applicationId: string, topic: string, latestVersion: number, timeoutMs = 90_000): Promise<void> {
  const runner = new SourceRunner({ brokers, applicationId })
  await until(`the source of ${topic} committed version ${latestVersion}`, async () => {
    const offset = (await runner.committedOffsets()).get(`delta-${topic}`) as DeltaOffset | undefined
    return offset?.phase === 'changes' && offset.version > latestVersion
  }, timeoutMs)
}
