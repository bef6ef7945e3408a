import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

test('the tests run on the Node 24 the repository pins, not the machine Node', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    devDependencies: Record<string, string>
  }
  const pinned = pkg.devDependencies.node
  assert.ok(pinned !== undefined, 'package.json pins Node with the `node` dev dependency')
  assert.equal(process.versions.node.split('.')[0], '24', `running on Node ${process.versions.node} from ${process.execPath}`)
  assert.match(process.execPath, /node_modules/, 'npm scripts run the node binary from node_modules/.bin')
})

test('every test file sees the broker address the global setup published', () => {
  assert.match(process.env.KAFKA_BROKERS ?? '', /^[^,\s]+:\d+(,[^,\s]+:\d+)*$/)
})
