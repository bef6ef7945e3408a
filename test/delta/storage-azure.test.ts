/**
 * The Azure store against Azurite, Microsoft's Blob Storage emulator, on 127.0.0.1. Azurite checks
 * shared-key signatures and SAS tokens (signature, permissions, expiry) as Azure does.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { getCACertificates, setDefaultCACertificates } from 'node:tls'
import { ContainerClient, ContainerSASPermissions, StorageSharedKeyCredential, generateBlobSASQueryParameters } from '@azure/storage-blob'
import { SluiceError } from '../../src/errors.ts'
import { createAzureStore } from '../../src/delta/storage/azure.ts'
import { storeForUri } from '../../src/delta/storage/index.ts'
import type { ObjectStore } from '../../src/delta/storage/object-store.ts'
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite } from '../helpers/object-servers.ts'
import { objectStoreContract } from './storage-contract.ts'

const container = 'lakehouse'
let azurite: Awaited<ReturnType<typeof startAzurite>>

// The first run on a machine installs the server (pip, npm or go install): allow it the time.
before(async () => {
  azurite = await startAzurite()
  const setup = new ContainerClient(`${azurite.blobEndpoint}/${container}`, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY))
  await setup.create()
}, { timeout: 15 * 60_000 })

after(async () => {
  await azurite?.stop()
})

const text = (value: string): Uint8Array => new TextEncoder().encode(value)

/** A container SAS signed with the account key, valid from a minute ago until `expiresOn`. */
function containerSas(permissions: string, expiresOn: Date): string {
  return generateBlobSASQueryParameters(
    { containerName: container, permissions: ContainerSASPermissions.parse(permissions), startsOn: new Date(Date.now() - 60_000), expiresOn },
    new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
  ).toString()
}

describe('Azure store with the account key (abfss:// URI)', () => {
  let store: ObjectStore
  before(() => {
    store = createAzureStore(`abfss://${container}@${AZURITE_ACCOUNT}.dfs.core.windows.net/warehouse/orders`, {
      endpoint: azurite.blobEndpoint,
      credentials: { accountKey: AZURITE_KEY },
    })
  })
  objectStoreContract(() => store, (path) => `abfss://${container}@${AZURITE_ACCOUNT}.dfs.core.windows.net/warehouse/orders/${path}`)
})

describe('Azure store with a SAS (az:// URI)', () => {
  let store: ObjectStore
  before(() => {
    store = createAzureStore(`az://${container}/sas/orders`, {
      accountName: AZURITE_ACCOUNT,
      endpoint: azurite.blobEndpoint,
      credentials: { sasToken: `?${containerSas('racwl', new Date(Date.now() + 3_600_000))}` },
    })
  })
  objectStoreContract(() => store, (path) => `abfss://${container}@${AZURITE_ACCOUNT}.dfs.core.windows.net/sas/orders/${path}`)
})

describe('Azure through the kernel\'s storeForUri', () => {
  test('an abfss:// URI loads this store with the options given', async () => {
    const store = await storeForUri(`abfss://${container}@${AZURITE_ACCOUNT}.dfs.core.windows.net/by-uri`, { endpoint: azurite.blobEndpoint, credentials: { accountKey: AZURITE_KEY } })
    await store.put('a.json', text('abfss'))
    assert.equal(new TextDecoder().decode(await store.read('a.json')), 'abfss')
  })
})

describe('Azure credentials', () => {
  test('a wrong account key is refused with an error that names the object and the fix, never the key', async () => {
    const wrongKey = Buffer.from('not the key of this account, 64 bytes long, for an HMAC-SHA256!!').toString('base64')
    const store = createAzureStore(`abfss://${container}@${AZURITE_ACCOUNT}.dfs.core.windows.net/warehouse/orders`, {
      endpoint: azurite.blobEndpoint,
      credentials: { accountKey: wrongKey },
    })
    await assert.rejects(store.head('_delta_log/00000000000000000000.json'), (error: unknown) => {
      assert.ok(error instanceof SluiceError, String(error))
      assert.equal(error.code, 'DELTA_STORAGE')
      assert.match(error.message, /access denied reading the metadata of abfss:\/\/lakehouse@devstoreaccount1\.dfs\.core\.windows\.net\/warehouse\/orders\/_delta_log\/00000000000000000000\.json/)
      assert.match(error.message, /HTTP 403/)
      assert.match(error.fix, /Azure credentials/)
      assert.match(error.fix, /Storage Blob Data Reader/)
      const everything = `${error.message} ${error.fix} ${(error.cause as Error).message} ${JSON.stringify(error)}`
      assert.ok(!everything.includes(wrongKey), 'the account key leaked into the error')
      return true
    })
  })

  test('a SAS without write permission cannot commit; the error names the fix and not the signature', async () => {
    const readOnly = containerSas('rl', new Date(Date.now() + 3_600_000))
    const signature = new URLSearchParams(readOnly).get('sig') ?? ''
    const store = createAzureStore(`az://${container}/read-only`, { accountName: AZURITE_ACCOUNT, endpoint: azurite.blobEndpoint, credentials: { sasToken: readOnly } })
    await assert.rejects(store.putIfAbsent('_delta_log/00000000000000000000.json', text('{}')), (error: unknown) => {
      assert.ok(error instanceof SluiceError, String(error))
      assert.match(error.message, /access denied writing abfss:\/\/lakehouse@devstoreaccount1\.dfs\.core\.windows\.net\/read-only\/_delta_log\/00000000000000000000\.json/)
      const everything = `${error.message} ${error.fix} ${(error.cause as Error).message}`
      assert.ok(signature.length > 0 && !everything.includes(signature) && !everything.includes(encodeURIComponent(signature)), 'the SAS signature leaked')
      return true
    })
    assert.deepEqual(await paths(store), [])
  })

  test('an expired vended SAS is replaced through refreshCredentials', async () => {
    let refreshes = 0
    const expired = new Date(Date.now() - 1000)
    const store = createAzureStore(`az://${container}/vended`, {
      accountName: AZURITE_ACCOUNT,
      endpoint: azurite.blobEndpoint,
      credentials: { sasToken: containerSas('racwl', expired), expiresAt: expired },
      refreshCredentials: () => {
        refreshes++
        const expiresAt = new Date(Date.now() + 3_600_000)
        return Promise.resolve({ sasToken: containerSas('racwl', expiresAt), expiresAt })
      },
    })
    await store.put('a.json', text('{}'))
    assert.equal(await store.putIfAbsent('b.json', text('{}')), true)
    assert.deepEqual(await paths(store), ['a.json', 'b.json'])
    assert.equal(refreshes, 1)
  })

  test('an expired SAS is refused by the service (what refreshCredentials prevents)', async () => {
    const store = createAzureStore(`az://${container}/vended`, {
      accountName: AZURITE_ACCOUNT,
      endpoint: azurite.blobEndpoint,
      // No expiresAt given: the store cannot know, so the service answers.
      credentials: { sasToken: containerSas('racwl', new Date(Date.now() - 1000)) },
    })
    await assert.rejects(store.read('a.json'), (error: unknown) => error instanceof SluiceError && /access denied reading/.test(error.message))
  })

  test('the account name and key from the environment', async () => {
    const saved = { ...process.env }
    try {
      process.env.AZURE_STORAGE_ACCOUNT_NAME = AZURITE_ACCOUNT
      process.env.AZURE_STORAGE_ACCOUNT_KEY = AZURITE_KEY
      const store = createAzureStore(`az://${container}/environment`, { endpoint: azurite.blobEndpoint })
      await store.put('y.json', text('from the environment'))
      assert.equal((await store.head('y.json')).size, 'from the environment'.length)
    } finally {
      process.env = saved
    }
  })

  test('credentials of no known shape are a configuration error listing the shapes', () => {
    assert.throws(
      () => createAzureStore(`az://${container}/x`, { accountName: AZURITE_ACCOUNT, credentials: { sas: 'sv=...' } as never }),
      (error: unknown) => error instanceof SluiceError && error.code === 'CONFIG_INVALID' && /"sasToken"/.test(error.message) && /clientSecret/.test(error.fix),
    )
  })

  test('an az:// URI without an account says how to name one', () => {
    const saved = { ...process.env }
    try {
      delete process.env.AZURE_STORAGE_ACCOUNT_NAME
      delete process.env.AZURE_STORAGE_ACCOUNT
      assert.throws(() => createAzureStore(`az://${container}/x`), (error: unknown) => error instanceof SluiceError && /accountName/.test(error.fix))
    } finally {
      process.env = saved
    }
  })
})

/** An Entra ID access token as Azure Storage checks it (issuer, audience, lifetime); Azurite does not check signatures. */
function entraToken(audience: string): { token: string; expiresOnTimestamp: number } {
  const now = Math.floor(Date.now() / 1000)
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const claims = { aud: audience, iss: 'https://sts.windows.net/00000000-0000-0000-0000-000000000000/', iat: now - 60, nbf: now - 60, exp: now + 3600, oid: 'sluice-test' }
  return { token: `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.${Buffer.from('not-verified').toString('base64url')}`, expiresOnTimestamp: (now + 3600) * 1000 }
}

describe('Azure store with a Microsoft Entra token credential (Azurite over HTTPS with OAuth)', () => {
  let secure: Awaited<ReturnType<typeof startAzurite>>
  const scopesAsked: string[] = []
  before(async () => {
    secure = await startAzurite({ oauth: true })
    // Trust the emulator's self-signed certificate in this process, as a real account's is trusted.
    setDefaultCACertificates([...getCACertificates('default'), secure.certificate ?? ''])
    const setup = new ContainerClient(`${secure.blobEndpoint}/${container}`, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY))
    await setup.create()
  })
  after(async () => {
    await secure?.stop()
  })

  test('a token for Azure Storage reads and writes', async () => {
    const store = createAzureStore(`abfss://${container}@${AZURITE_ACCOUNT}.dfs.core.windows.net/entra`, {
      endpoint: secure.blobEndpoint,
      credentials: {
        tokenCredential: {
          getToken: (scopes) => {
            scopesAsked.push(...(Array.isArray(scopes) ? scopes : [scopes]))
            return Promise.resolve(entraToken('https://storage.azure.com'))
          },
        },
      },
    })
    assert.equal(await store.putIfAbsent('_delta_log/00000000000000000000.json', text('{"commitInfo":{}}')), true)
    assert.equal(await store.putIfAbsent('_delta_log/00000000000000000000.json', text('{"commitInfo":{"other":1}}')), false)
    assert.deepEqual(await paths(store), ['_delta_log/00000000000000000000.json'])
    assert.equal(new TextDecoder().decode(await store.readRange('_delta_log/00000000000000000000.json', 2, 12)), 'commitInfo')
    assert.ok(scopesAsked.includes('https://storage.azure.com/.default'), `scopes asked: ${scopesAsked.join(', ')}`)
  })

  test('a token for another resource is refused, and the error names the role to grant', async () => {
    const wrong = entraToken('https://management.azure.com')
    const store = createAzureStore(`abfss://${container}@${AZURITE_ACCOUNT}.dfs.core.windows.net/entra`, {
      endpoint: secure.blobEndpoint,
      credentials: { tokenCredential: { getToken: () => Promise.resolve(wrong) } },
    })
    await assert.rejects(store.read('_delta_log/00000000000000000000.json'), (error: unknown) => {
      assert.ok(error instanceof SluiceError, String(error))
      assert.match(error.message, /access denied reading abfss:\/\/lakehouse@devstoreaccount1\.dfs\.core\.windows\.net\/entra\/_delta_log\/00000000000000000000\.json/)
      assert.match(error.fix, /Storage Blob Data Reader/)
      assert.ok(!`${error.message} ${(error.cause as Error).message}`.includes(wrong.token), 'the token leaked')
      return true
    })
  })
})

async function paths(store: ObjectStore): Promise<string[]> {
  const all: string[] = []
  for await (const info of store.list('')) all.push(info.path)
  return all
}
