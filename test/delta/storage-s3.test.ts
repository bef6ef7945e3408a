/**
 * The S3 store against moto's S3 server on 127.0.0.1, with request authentication on: every
 * request is signed and checked, so credentials that are wrong are refused as AWS refuses them.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { SluiceError } from '../../src/errors.ts'
import { createS3Store } from '../../src/delta/storage/s3.ts'
import { storeForUri } from '../../src/delta/storage/index.ts'
import type { ObjectStore } from '../../src/delta/storage/object-store.ts'
import { motoWithAuthentication, startMoto, type MotoAccount, type RunningServer } from '../helpers/object-servers.ts'
import { objectStoreContract } from './storage-contract.ts'

const bucket = 'lakehouse'
let moto: RunningServer
let account: MotoAccount

// The first run on a machine installs the server (pip, npm or go install): allow it the time.
before(async () => {
  moto = await startMoto()
  account = await motoWithAuthentication(moto.endpoint, bucket)
}, { timeout: 15 * 60_000 })

after(async () => {
  await moto?.stop()
})

const text = (value: string): Uint8Array => new TextEncoder().encode(value)

describe('S3 store with an IAM user\'s keys', () => {
  let store: ObjectStore
  before(() => {
    store = createS3Store(`s3://${bucket}/warehouse/orders`, { endpoint: moto.endpoint, region: 'us-east-1', credentials: account.user })
  })
  objectStoreContract(() => store, (path) => `s3://${bucket}/warehouse/orders/${path}`)
})

describe('S3 through the kernel\'s storeForUri', () => {
  test('s3:// and s3a:// URIs load this store with the options given', async () => {
    for (const scheme of ['s3', 's3a']) {
      const store = await storeForUri(`${scheme}://${bucket}/by-uri`, { endpoint: moto.endpoint, credentials: account.user })
      await store.put(`${scheme}.json`, text(scheme))
      assert.equal(new TextDecoder().decode(await store.read(`${scheme}.json`)), scheme)
    }
  })
})

describe('S3 credentials', () => {
  test('wrong keys are refused with an error that names the object and the fix, never the secret', async () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY'
    const store = createS3Store(`s3://${bucket}/warehouse/orders`, {
      endpoint: moto.endpoint,
      credentials: { accessKeyId: account.user.accessKeyId, secretAccessKey: secret },
      maxAttempts: 1,
    })
    await assert.rejects(store.read('_delta_log/00000000000000000000.json'), (error: unknown) => {
      assert.ok(error instanceof SluiceError, String(error))
      assert.equal(error.code, 'DELTA_STORAGE')
      assert.match(error.message, /access denied reading s3:\/\/lakehouse\/warehouse\/orders\/_delta_log\/00000000000000000000\.json/)
      assert.match(error.message, /SignatureDoesNotMatch|HTTP 403/)
      assert.match(error.fix, /AWS credentials/)
      assert.match(error.fix, /s3:GetObject/)
      const everything = `${error.message} ${error.fix} ${String((error.cause as Error).message)} ${JSON.stringify(error)}`
      assert.ok(!everything.includes(secret), 'the secret key leaked into the error')
      return true
    })
  })

  test('expired vended credentials are replaced through refreshCredentials before a request', async () => {
    let refreshes = 0
    const store = createS3Store(`s3a://${bucket}/vended`, {
      endpoint: moto.endpoint,
      // What a credential vending service handed out an hour ago: no longer valid.
      credentials: { accessKeyId: 'ASIAEXPIRED', secretAccessKey: 'expired', sessionToken: 'expired', expiresAt: Date.now() - 1000 },
      refreshCredentials: () => {
        refreshes++
        return Promise.resolve({ ...account.role, expiresAt: Date.now() + 3_600_000 })
      },
    })
    await store.put('a.json', text('{}'))
    assert.equal(await store.putIfAbsent('b.json', text('{}')), true)
    assert.deepEqual((await collectPaths(store)).sort(), ['a.json', 'b.json'])
    assert.equal(refreshes, 1)
  })

  test('expired credentials without a refresh callback fail before any request, saying what to pass', async () => {
    const store = createS3Store(`s3://${bucket}/vended`, {
      endpoint: moto.endpoint,
      credentials: { ...account.role, expiresAt: Date.now() - 1000 },
    })
    await assert.rejects(store.head('a.json'), (error: unknown) => {
      assert.ok(error instanceof SluiceError)
      assert.match(error.message, /credentials for s3:\/\/lakehouse\/vended expired/)
      assert.match(error.fix, /refreshCredentials/)
      assert.ok(!error.message.includes(account.role.secretAccessKey))
      return true
    })
  })

  test('the AWS SDK default chain: a profile of a shared credentials file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-aws-'))
    const saved = { ...process.env }
    try {
      await writeFile(
        join(dir, 'credentials'),
        `[default]\naws_access_key_id = AKIAWRONG\naws_secret_access_key = wrong\n\n[lakehouse]\naws_access_key_id = ${account.user.accessKeyId}\naws_secret_access_key = ${account.user.secretAccessKey}\n`,
      )
      await writeFile(join(dir, 'config'), '[profile lakehouse]\nregion = eu-west-1\n')
      for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION']) delete process.env[name]
      process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'credentials')
      process.env.AWS_CONFIG_FILE = join(dir, 'config')
      const store = createS3Store(`s3://${bucket}/profile`, { endpoint: moto.endpoint, profile: 'lakehouse' })
      await store.put('x.json', text('from a profile'))
      assert.equal(new TextDecoder().decode(await store.read('x.json')), 'from a profile')
      // The default profile holds wrong keys: without `profile` the request is refused.
      const withDefault = createS3Store(`s3://${bucket}/profile`, { endpoint: moto.endpoint, maxAttempts: 1 })
      await assert.rejects(withDefault.read('x.json'), /access denied/)
    } finally {
      process.env = saved
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('the AWS SDK default chain finding nothing names the places it looked', async () => {
    const saved = { ...process.env }
    try {
      for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name]
      process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials'
      process.env.AWS_CONFIG_FILE = '/nonexistent/config'
      process.env.AWS_EC2_METADATA_DISABLED = 'true'
      const store = createS3Store(`s3://${bucket}/warehouse/orders`, { endpoint: moto.endpoint })
      await assert.rejects(store.head('_delta_log/00000000000000000000.json'), (error: unknown) => {
        assert.ok(error instanceof SluiceError, String(error))
        assert.match(error.message, /no credentials found reading the metadata of s3:\/\/lakehouse\/warehouse\/orders\/_delta_log\/00000000000000000000\.json/)
        assert.match(error.fix, /AWS_ACCESS_KEY_ID/)
        return true
      })
    } finally {
      process.env = saved
    }
  })

  test('misspelt or mistyped options are configuration errors naming the option, not its value', () => {
    assert.throws(
      () => createS3Store(`s3://${bucket}/t`, { endpoint: moto.endpoint, pathstyle: true } as never),
      (error: unknown) => error instanceof SluiceError && error.code === 'CONFIG_INVALID' && /unknown option "pathstyle"/.test(error.message) && /pathStyle/.test(error.fix),
    )
    assert.throws(
      () => createS3Store(`s3://${bucket}/t`, { credentials: { accessKeyId: 'AKIA', secret_access_key: 'do-not-echo' } as never }),
      (error: unknown) => error instanceof SluiceError && error.code === 'CONFIG_INVALID' && /S3 credentials/.test(error.message) && !error.message.includes('do-not-echo'),
    )
  })

  test('a refresh callback returning the wrong shape fails with the option it lacks', async () => {
    const store = createS3Store(`s3://${bucket}/t`, {
      endpoint: moto.endpoint,
      refreshCredentials: () => Promise.resolve({ access_key_id: 'AKIA', secret_access_key: 'x' } as never),
    })
    await assert.rejects(store.head('a.json'), (error: unknown) => error instanceof SluiceError && /refreshing the credentials for s3:\/\/lakehouse\/t failed: .*unknown option "access_key_id"/.test(error.message))
  })

  test('the AWS SDK default chain: environment variables', async () => {
    const saved = { ...process.env }
    try {
      process.env.AWS_ACCESS_KEY_ID = account.role.accessKeyId
      process.env.AWS_SECRET_ACCESS_KEY = account.role.secretAccessKey
      process.env.AWS_SESSION_TOKEN = account.role.sessionToken
      const store = createS3Store(`s3://${bucket}/environment`, { endpoint: moto.endpoint })
      await store.put('y.json', text('from the environment'))
      assert.equal((await store.head('y.json')).size, 'from the environment'.length)
    } finally {
      process.env = saved
    }
  })
})

async function collectPaths(store: ObjectStore): Promise<string[]> {
  const paths: string[] = []
  for await (const info of store.list('')) paths.push(info.path)
  return paths
}
