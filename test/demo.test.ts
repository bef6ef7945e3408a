/**
 * The README's first command: `npm run demo` writes the sample table, streams it into Kafka with
 * the Delta source, runs the pipeline, and follows the table's new commits.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'

test('the demo streams the sample table and follows its next commit', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['scripts/demo.ts', '--seconds', '14'], { env: process.env, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 })
  assert.match(stdout, /snapshot: 200 of 200 rows published/)
  assert.match(stdout, /pipeline: snapshot @v0 +order/, 'snapshot rows went through the pipeline')
  assert.match(stdout, /table: committed version 1/)
  assert.match(stdout, /pipeline: update_postimage @v1 +order/, 'the change of the next commit went through the pipeline')
  assert.match(stdout, /stopped: \d+ change records published exactly once/)
})
