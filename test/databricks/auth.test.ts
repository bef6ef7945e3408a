import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { inspect } from 'node:util'
import { DatabricksClient } from '../../src/databricks/index.ts'
import { SluiceError } from '../../src/errors.ts'
import type { DatabricksEmulator } from '../emulators/databricks/index.ts'
import { CLIENT_ID, CLIENT_SECRET, PAT, startEmulator, WAREHOUSE } from './fixtures.ts'

let emulator: DatabricksEmulator
let shortLived: DatabricksEmulator
let dir: string

before(async () => {
  emulator = await startEmulator()
  shortLived = await startEmulator({ oauthTokenLifetimeSeconds: 2 })
  dir = await mkdtemp(join(tmpdir(), 'sluice-databricks-auth-'))
})
after(async () => {
  await emulator.close()
  await shortLived.close()
  await rm(dir, { recursive: true, force: true })
})

const NO_FILE = join('/nonexistent', 'databrickscfg')

async function selectOne(client: DatabricksClient): Promise<unknown> {
  const result = await client.executeStatement('SELECT 1 AS one', { warehouseId: WAREHOUSE })
  for await (const row of result) return row.one
  return undefined
}

function authorizationsSince(target: DatabricksEmulator, start: number): Array<string | undefined> {
  return target.requests.slice(start).filter((request) => request.path.startsWith('/api/')).map((request) => request.authorization)
}

test('personal access token from DATABRICKS_HOST and DATABRICKS_TOKEN', async () => {
  const client = await DatabricksClient.connect({ env: { DATABRICKS_HOST: emulator.host, DATABRICKS_TOKEN: PAT, DATABRICKS_CONFIG_FILE: NO_FILE } })
  assert.equal(client.config.auth.kind, 'pat')
  const start = emulator.requests.length
  assert.equal(await selectOne(client), 1n)
  assert.deepEqual(authorizationsSince(emulator, start), [`Bearer ${PAT}`])
})

test('OAuth M2M from a named profile in DATABRICKS_CONFIG_FILE: one token, cached across calls', async () => {
  const file = join(dir, 'databrickscfg')
  await writeFile(file, [
    '[DEFAULT]', `host = ${emulator.host}`, 'token = dapi-not-this-one', '',
    '; the CI service principal', '[ci]', `host = ${emulator.host}`, `client_id = ${CLIENT_ID}`, `client_secret = ${CLIENT_SECRET}`, '',
  ].join('\n'))
  const client = await DatabricksClient.connect({ env: { DATABRICKS_CONFIG_FILE: file, DATABRICKS_CONFIG_PROFILE: 'ci' } })
  assert.equal(client.config.auth.kind, 'oauth-m2m')
  const issuedBefore = emulator.issuedTokens.length
  const start = emulator.requests.length
  await Promise.all([selectOne(client), selectOne(client), selectOne(client)])
  assert.equal(await selectOne(client), 1n)
  const issued = emulator.issuedTokens.slice(issuedBefore)
  assert.equal(issued.length, 1, 'concurrent and later calls share one token')
  const tokenRequest = emulator.requests.slice(start).find((request) => request.path === '/oidc/v1/token')!
  assert.equal(tokenRequest.authorization, `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`)
  for (const authorization of authorizationsSince(emulator, start)) assert.equal(authorization, `Bearer ${issued[0]}`)
})

test('the DEFAULT profile is used when none is named; the environment overrides a profile setting', async () => {
  const file = join(dir, 'default-cfg')
  await writeFile(file, `[DEFAULT]\nhost = ${emulator.host}\ntoken = ${PAT}\n`)
  const fromFile = await DatabricksClient.connect({ env: { DATABRICKS_CONFIG_FILE: file } })
  assert.equal(fromFile.config.auth.origin, `token of profile [DEFAULT] in ${file}`)
  assert.equal(await selectOne(fromFile), 1n)

  const overridden = await DatabricksClient.connect({ env: { DATABRICKS_CONFIG_FILE: file, DATABRICKS_TOKEN: 'dapi-wrong' } })
  assert.equal(overridden.config.auth.origin, 'DATABRICKS_TOKEN')
  await assert.rejects(selectOne(overridden), (error: unknown) => error instanceof SluiceError && error.code === 'DATABRICKS_AUTH' && /Check DATABRICKS_TOKEN/.test(error.fix))
})

test('authentication order: a token wins over client credentials unless auth type says otherwise', async () => {
  const env = { DATABRICKS_HOST: emulator.host, DATABRICKS_TOKEN: PAT, DATABRICKS_CLIENT_ID: CLIENT_ID, DATABRICKS_CLIENT_SECRET: CLIENT_SECRET, DATABRICKS_CONFIG_FILE: NO_FILE }
  assert.equal((await DatabricksClient.connect({ env })).config.auth.kind, 'pat')
  assert.equal((await DatabricksClient.connect({ env: { ...env, DATABRICKS_AUTH_TYPE: 'oauth-m2m' } })).config.auth.kind, 'oauth-m2m')
  const forced = await DatabricksClient.connect({ env, authType: 'oauth-m2m' })
  const issuedBefore = emulator.issuedTokens.length
  assert.equal(await selectOne(forced), 1n)
  assert.equal(emulator.issuedTokens.length, issuedBefore + 1)
})

test('an OAuth token is refreshed before it expires', async () => {
  const client = await DatabricksClient.connect({ env: { DATABRICKS_HOST: shortLived.host, DATABRICKS_CLIENT_ID: CLIENT_ID, DATABRICKS_CLIENT_SECRET: CLIENT_SECRET, DATABRICKS_CONFIG_FILE: NO_FILE } })
  const start = shortLived.requests.length
  assert.equal(await selectOne(client), 1n)
  assert.equal(await selectOne(client), 1n)
  assert.equal(shortLived.issuedTokens.length, 1)
  // Lifetime 2 s: the token is replaced in its last quarter, before the server would refuse it.
  await new Promise((resolve) => setTimeout(resolve, 1600))
  assert.equal(await selectOne(client), 1n)
  assert.equal(shortLived.issuedTokens.length, 2)
  const apiCalls = shortLived.requests.slice(start).filter((request) => request.path.startsWith('/api/'))
  assert.ok(apiCalls.every((request) => request.status === 200), 'no call was refused for an expired token')
  assert.equal(apiCalls.at(-1)!.authorization, `Bearer ${shortLived.issuedTokens[1]}`)
})

test('a wrong client secret is a DATABRICKS_AUTH error naming where the credential came from, not the secret', async () => {
  const wrongSecret = 'doseWRONGSECRET0000000000000000'
  const client = await DatabricksClient.connect({ env: { DATABRICKS_HOST: emulator.host, DATABRICKS_CLIENT_ID: CLIENT_ID, DATABRICKS_CLIENT_SECRET: wrongSecret, DATABRICKS_CONFIG_FILE: NO_FILE } })
  await assert.rejects(selectOne(client), (error: unknown) => {
    assert.ok(error instanceof SluiceError)
    assert.equal(error.code, 'DATABRICKS_AUTH')
    assert.match(error.message, /DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET.*HTTP 401 invalid_client/)
    assert.ok(!error.message.includes(wrongSecret) && !inspect(error).includes(wrongSecret))
    return true
  })
})

test('a rejected token is a DATABRICKS_AUTH error that says which credential to check and never shows it', async () => {
  const badToken = 'dapiREVOKED00000000000000000000'
  const client = await DatabricksClient.connect({ token: badToken, host: emulator.host, env: { DATABRICKS_CONFIG_FILE: NO_FILE } })
  await assert.rejects(client.getTable('main.sales.orders'), (error: unknown) => {
    assert.ok(error instanceof SluiceError)
    assert.equal(error.code, 'DATABRICKS_AUTH')
    assert.match(error.message, /personal access token from option token.*HTTP 403.*Invalid access token/)
    assert.match(error.fix, /Check option token/)
    assert.ok(!inspect(error).includes(badToken))
    return true
  })
})

test('missing host, missing credentials and an unknown profile say what to set', async () => {
  await assert.rejects(DatabricksClient.connect({ env: { DATABRICKS_TOKEN: PAT, DATABRICKS_CONFIG_FILE: NO_FILE } }), /No Databricks workspace host.*Set DATABRICKS_HOST/s)
  await assert.rejects(DatabricksClient.connect({ env: { DATABRICKS_HOST: emulator.host, DATABRICKS_CONFIG_FILE: NO_FILE } }),
    (error: unknown) => error instanceof SluiceError && error.code === 'DATABRICKS_AUTH' && /DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET/.test(error.fix))
  const file = join(dir, 'profiles')
  await writeFile(file, `[DEFAULT]\nhost = ${emulator.host}\n[dev]\nhost = ${emulator.host}\n`)
  await assert.rejects(DatabricksClient.connect({ env: { DATABRICKS_CONFIG_FILE: file, DATABRICKS_CONFIG_PROFILE: 'prod' } }), /profile "prod" is not in .* \(it has: DEFAULT, dev\)/)
})

test('configurations and clients print with their secrets redacted', async () => {
  const client = await DatabricksClient.connect({ env: { DATABRICKS_HOST: emulator.host, DATABRICKS_CLIENT_ID: CLIENT_ID, DATABRICKS_CLIENT_SECRET: CLIENT_SECRET, DATABRICKS_CONFIG_FILE: NO_FILE } })
  await selectOne(client)
  const accessToken = emulator.issuedTokens.at(-1)!
  for (const printed of [inspect(client), inspect(client.config), JSON.stringify(client.config), inspect({ nested: { client } }, { depth: 10 })]) {
    assert.ok(!printed.includes(CLIENT_SECRET), printed)
    assert.ok(!printed.includes(accessToken), printed)
  }
  assert.match(inspect(client.config), /clientSecret: '\*\*\*'/)
  assert.match(inspect(client.config), new RegExp(CLIENT_ID))
  const pat = await DatabricksClient.connect({ env: { DATABRICKS_HOST: emulator.host, DATABRICKS_TOKEN: PAT, DATABRICKS_CONFIG_FILE: NO_FILE } })
  assert.ok(!inspect(pat).includes(PAT) && !JSON.stringify(pat.config).includes(PAT))
})
