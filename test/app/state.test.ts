/**
 * Stateful steps through an Application on the real broker: a running total per key kept in
 * state, a stateful filter and update; then a restart with the local state folder deleted, after
 * which the stores come back from their changelog topics and the totals go on from where they were.
 */
import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { after, before, test } from 'node:test'
import type { ProcessingGuarantee } from '../../src/app/index.ts'
import { readTopic, uniqueName } from '../helpers/kafka.ts'
import { Harness, json, runUntilProcessed } from './stateful-harness.ts'

let harness: Harness
const applications: string[] = []

before(() => {
  harness = new Harness()
})

after(async () => {
  await harness.close(applications)
})

const KEYS = 5

/** Inputs `from` … `to - 1`: key `k<n % KEYS>`, value n. */
function inputs(topic: string, from: number, to: number) {
  return Array.from({ length: to - from }, (_, index) => {
    const n = from + index
    return { topic, key: Buffer.from(`k${n % KEYS}`), value: Buffer.from(String(n)) }
  })
}

/** What the running totals must be: for input n, the sum of every input of its key up to n. */
function expectedTotals(upTo: number): Map<number, number> {
  const totals = new Map<string, number>()
  const expected = new Map<number, number>()
  for (let n = 0; n < upTo; n++) {
    const key = `k${n % KEYS}`
    const total = (totals.get(key) ?? 0) + n
    totals.set(key, total)
    expected.set(n, total)
  }
  return expected
}

for (const guarantee of ['exactly-once', 'at-least-once'] as ProcessingGuarantee[]) {
  test(`running totals per key in state survive a restart with the state folder deleted (${guarantee})`, async () => {
    const input = await harness.topic('state-in', 2)
    const totalsName = await harness.topic('state-totals', 1)
    const firstsName = await harness.topic('state-firsts', 1)
    const applicationId = uniqueName('state-app')
    applications.push(applicationId)
    const stateDir = await harness.stateDir()

    const newApp = () => {
      const app = harness.app({ applicationId, stateDir, instanceId: 'one', processingGuarantee: guarantee })
      const numbers = app.dataframe(app.topic<string, number>(input))
      numbers
        .apply(
          (n, state) => {
            const total = state.get('total', 0) + n
            state.set('total', total)
            return { n, total }
          },
          { stateful: true },
        )
        .toTopic(app.topic<string, { n: number; total: number }>(totalsName))
      // Another store: counts records per key (update) and lets only each key's first three through (filter).
      numbers
        .update((_n, state) => state.set('seen', state.get('seen', 0) + 1), { stateful: true, store: 'seen' })
        .filter((_n, state) => state.get<number>('seen', 0) <= 3, { stateful: true, store: 'seen' })
        .toTopic(app.topic<string, number>(firstsName))
      return app
    }

    await harness.produce(inputs(input, 0, 100))
    await runUntilProcessed(newApp(), 100)
    const changelogs = (await harness.admin.listTopics()).filter((name) => name.startsWith(`${applicationId}-changelog-`)).sort()
    assert.deepEqual(changelogs, [`${applicationId}-changelog-${input}-default`, `${applicationId}-changelog-${input}-seen`])
    const described = await harness.admin.describeTopic(changelogs[0] as string)
    assert.equal(described.partitions, 2, 'a changelog has as many partitions as its source topic')

    await rm(stateDir, { recursive: true, force: true })
    const logStart = harness.logLines.length
    await harness.produce(inputs(input, 100, 200))
    await runUntilProcessed(newApp(), 100)
    const restored = harness.logLines.slice(logStart).filter((line) => line.msg === 'state store restored from its changelog')
    assert.equal(restored.length, 4, 'two stores on two partitions were restored from their changelogs')
    assert.ok(restored.every((line) => Number(line.applied) > 0))

    const totals = await readTopic(totalsName, 200, { settleMs: 1000 })
    const expected = expectedTotals(200)
    assert.equal(totals.length, 200, 'one total per input, exactly once')
    for (const message of totals) {
      const { n, total } = json(message.value) as { n: number; total: number }
      assert.equal(total, expected.get(n), `input ${n} (key ${message.key?.toString()}): its key's running total`)
    }
    const firsts = (await readTopic(firstsName, 3 * KEYS, { settleMs: 1000 })).map((message) => json(message.value) as number)
    assert.deepEqual(firsts.sort((a, b) => a - b), Array.from({ length: 3 * KEYS }, (_, n) => n), "each key's first three inputs, across the restart")
  })
}

test('a changelog topic whose partition count differs from its source topic stops the application before it reads', async () => {
  const input = await harness.topic('state-mismatch-in', 2)
  const applicationId = uniqueName('state-mismatch-app')
  applications.push(applicationId)
  await harness.admin.createTopics([{ name: `${applicationId}-changelog-${input}-default`, partitions: 1 }])
  const app = harness.app({ applicationId, stateDir: await harness.stateDir() })
  app.dataframe(app.topic<string, number>(input)).update((n, state) => state.set('last', n), { stateful: true })
  await assert.rejects(app.run(), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'STATE_STORE')
    assert.match(error.message, /has 1 partitions, its source topic 2/)
    return true
  })
})
