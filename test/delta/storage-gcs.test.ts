/**
 * The GCS store against fake-gcs-server (a Go emulator of the GCS JSON API) on 127.0.0.1. The
 * emulator accepts any token, so requests go through a loopback proxy that checks the bearer token
 * as Google's API does (401 for an unknown one) and records the tokens it saw.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { SluiceError } from '../../src/errors.ts'
import { createGcsStore } from '../../src/delta/storage/gcs.ts'
import { storeForUri } from '../../src/delta/storage/index.ts'
import type { ObjectStore } from '../../src/delta/storage/object-store.ts'
import { startFakeGcs, startTokenCheckingProxy, type RunningServer } from '../helpers/object-servers.ts'
import { objectStoreContract } from './storage-contract.ts'

const bucket = 'lakehouse'
const goodToken = 'ya29.test-token-accepted-by-the-proxy'
let gcs: RunningServer
let proxy: Awaited<ReturnType<typeof startTokenCheckingProxy>>

// The first run on a machine installs the server (pip, npm or go install): allow it the time.
before(async () => {
  gcs = await startFakeGcs()
  const created = await fetch(`${gcs.endpoint}/storage/v1/b?project=test`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: bucket }),
  })
  assert.equal(created.status, 200, await created.text())
  proxy = await startTokenCheckingProxy(gcs.endpoint, new Set([goodToken]))
}, { timeout: 15 * 60_000 })

after(async () => {
  await proxy?.stop()
  await gcs?.stop()
})

const text = (value: string): Uint8Array => new TextEncoder().encode(value)

describe('GCS store with an OAuth access token', () => {
  let store: ObjectStore
  before(() => {
    store = createGcsStore(`gs://${bucket}/warehouse/orders`, { endpoint: proxy.endpoint, credentials: { accessToken: goodToken } })
  })
  objectStoreContract(() => store, (path) => `gs://${bucket}/warehouse/orders/${path}`)
})

describe('GCS through the kernel\'s storeForUri', () => {
  test('a gs:// URI loads this store with the options given', async () => {
    const store = await storeForUri(`gs://${bucket}/by-uri`, { endpoint: proxy.endpoint, credentials: { accessToken: goodToken } })
    await store.put('a.json', text('gs'))
    assert.equal(new TextDecoder().decode(await store.read('a.json')), 'gs')
  })
})

describe('GCS credentials', () => {
  test('a rejected token gives an error that names the object and the fix, never the token', async () => {
    const wrongToken = 'ya29.a-token-that-is-not-valid-and-must-not-leak'
    const store = createGcsStore(`gs://${bucket}/warehouse/orders`, { endpoint: proxy.endpoint, credentials: { accessToken: wrongToken } })
    await assert.rejects(store.read('_delta_log/00000000000000000000.json'), (error: unknown) => {
      assert.ok(error instanceof SluiceError, String(error))
      assert.equal(error.code, 'DELTA_STORAGE')
      assert.match(error.message, /access denied reading gs:\/\/lakehouse\/warehouse\/orders\/_delta_log\/00000000000000000000\.json/)
      assert.match(error.message, /HTTP 401/)
      assert.match(error.fix, /Google Cloud credentials/)
      assert.match(error.fix, /storage\.objects\.get/)
      const everything = `${error.message} ${error.fix} ${(error.cause as Error).message} ${JSON.stringify(error)}`
      assert.ok(!everything.includes(wrongToken), 'the token leaked into the error')
      return true
    })
    assert.ok(proxy.tokensSeen.includes(wrongToken), 'the request reached the server with the given token')
  })

  test('an expired vended token is replaced through refreshCredentials', async () => {
    let refreshes = 0
    const store = createGcsStore(`gs://${bucket}/vended`, {
      endpoint: proxy.endpoint,
      credentials: { accessToken: 'ya29.expired', expiresAt: Date.now() - 1000 },
      refreshCredentials: () => {
        refreshes++
        return Promise.resolve({ accessToken: goodToken, expiresAt: new Date(Date.now() + 3_600_000) })
      },
    })
    await store.put('a.json', text('{}'))
    assert.equal(await store.putIfAbsent('b.json', text('{}')), true)
    const paths: string[] = []
    for await (const info of store.list('')) paths.push(info.path)
    assert.deepEqual(paths, ['a.json', 'b.json'])
    assert.equal(refreshes, 1)
    assert.ok(!proxy.tokensSeen.includes('ya29.expired'), 'the expired token was never sent')
  })

  test('without credentials, Application Default Credentials are looked up; none found names the ways to provide them', async () => {
    const saved = { ...process.env }
    try {
      for (const name of Object.keys(process.env)) if (/^(GOOGLE_|GCLOUD_|CLOUDSDK_)/.test(name)) delete process.env[name]
      // No gcloud configuration, and a metadata server address that refuses connections at once.
      process.env.CLOUDSDK_CONFIG = '/nonexistent/gcloud'
      process.env.GCE_METADATA_HOST = '127.0.0.1:9'
      process.env.GCE_METADATA_IP = '127.0.0.1:9'
      const store = createGcsStore(`gs://${bucket}/warehouse/orders`, { endpoint: proxy.endpoint })
      await assert.rejects(store.head('_delta_log/00000000000000000000.json'), (error: unknown) => {
        assert.ok(error instanceof SluiceError, String(error))
        assert.match(error.message, /no credentials found reading the metadata of gs:\/\/lakehouse\/warehouse\/orders\/_delta_log\/00000000000000000000\.json/)
        assert.match(error.fix, /GOOGLE_APPLICATION_CREDENTIALS/)
        return true
      })
    } finally {
      process.env = saved
    }
  })

  test('a service account key that is not JSON is a configuration error', () => {
    assert.throws(
      () => createGcsStore(`gs://${bucket}/t`, { credentials: { serviceAccountKey: '-----BEGIN PRIVATE KEY-----\nMIIE...' } }),
      (error: unknown) => error instanceof SluiceError && error.code === 'CONFIG_INVALID' && !error.message.includes('MIIE') && /keyFile/.test(error.fix),
    )
  })

  test('a bucket that does not exist is named as such', async () => {
    const store = createGcsStore('gs://no-such-bucket/t', { endpoint: proxy.endpoint, credentials: { accessToken: goodToken } })
    await assert.rejects(store.head('_delta_log/00000000000000000000.json'), (error: unknown) => {
      assert.ok(error instanceof SluiceError)
      assert.match(error.message, /gs:\/\/no-such-bucket\/t\/_delta_log\/00000000000000000000\.json/)
      return true
    })
  })
})
