/**
 * Real local object-storage servers for the cloud store tests, each on a free 127.0.0.1 port and
 * stopped by the test: moto (S3, from PyPI), Azurite (Azure Blob, from npm) and fake-gcs-server
 * (GCS, a Go module). Each tool is installed once into the Sluice cache folder and reused; an install
 * cut short never counts as done (a marker file is written last).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { installOnce, sluiceHome } from '../../scripts/lib/install-once.ts'
import { pythonEnv } from '../../scripts/lib/python-env.ts'

const run = promisify(execFile)

export const MOTO_REQUIREMENTS = ['moto[server]==5.2.5']
export const AZURITE_VERSION = '3.37.0'
export const FAKE_GCS_SERVER_VERSION = 'v1.56.1'

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1'
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  endpoint: string
  stop(): Promise<void>
}

/**
 * moto's S3 in server mode. Its If-None-Match check is a read followed by a write, not atomic across
 * the threads of its default server, so it runs single-threaded here: requests are served one at a
 * time, as AWS S3 makes each conditional write atomic.
 */
export async function startMoto(): Promise<RunningServer> {
  const env = await pythonEnv('moto', MOTO_REQUIREMENTS)
  const script = [
    'import os, sys',
    'from werkzeug.serving import make_server',
    'from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app',
    "server = make_server('127.0.0.1', 0, DomainDispatcherApplication(create_backend_app), threaded=False, request_handler=MotoRequestHandler)",
    "os.environ['MOTO_PORT'] = str(server.server_port)",
    "print(f'listening on {server.server_port}', flush=True)",
    'server.serve_forever()',
  ].join('\n')
  const child = spawn(env.python, ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] })
  const port = await waitForLine(child, /listening on (\d+)/, 'moto')
  return running(child, `http://127.0.0.1:${port}`)
}

export interface MotoAccount {
  /** An IAM user's long-lived keys, allowed all of S3. */
  user: { accessKeyId: string; secretAccessKey: string }
  /** Temporary credentials of a role assumed through STS (with a session token), allowed all of S3. */
  role: { accessKeyId: string; secretAccessKey: string; sessionToken: string }
}

/**
 * Creates `bucket`, an IAM user and a role allowed all of S3 in a fresh moto, then turns on moto's
 * request authentication: from then on a request must be signed with those credentials, or it gets
 * 403 as from AWS. Runs boto3 (installed with moto), an independent client.
 */
export async function motoWithAuthentication(endpoint: string, bucket: string): Promise<MotoAccount> {
  const env = await pythonEnv('moto', MOTO_REQUIREMENTS)
  const script = `
import boto3, json, sys, urllib.request
endpoint, bucket = sys.argv[1], sys.argv[2]
setup = dict(endpoint_url=endpoint, region_name='us-east-1', aws_access_key_id='setup', aws_secret_access_key='setup')
boto3.client('s3', **setup).create_bucket(Bucket=bucket)
iam = boto3.client('iam', **setup)
allow_s3 = json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': ['s3:*', 'sts:AssumeRole'], 'Resource': '*'}]})
iam.create_user(UserName='sluice')
iam.put_user_policy(UserName='sluice', PolicyName='s3', PolicyDocument=allow_s3)
key = iam.create_access_key(UserName='sluice')['AccessKey']
trust = json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Principal': {'AWS': '*'}, 'Action': 'sts:AssumeRole'}]})
role = iam.create_role(RoleName='sluice-reader', AssumeRolePolicyDocument=trust)['Role']
iam.put_role_policy(RoleName='sluice-reader', PolicyName='s3', PolicyDocument=allow_s3)
assumed = boto3.client('sts', **setup).assume_role(RoleArn=role['Arn'], RoleSessionName='sluice-test')['Credentials']
urllib.request.urlopen(urllib.request.Request(endpoint + '/moto-api/reset-auth', data=b'0', method='POST', headers={'Content-Type': 'text/plain'}))
print(json.dumps({
  'user': {'accessKeyId': key['AccessKeyId'], 'secretAccessKey': key['SecretAccessKey']},
  'role': {'accessKeyId': assumed['AccessKeyId'], 'secretAccessKey': assumed['SecretAccessKey'], 'sessionToken': assumed['SessionToken']},
}))
`
  return JSON.parse(await env.runScript(script, [endpoint, bucket], { timeoutMs: 120_000 })) as MotoAccount
}

/**
 * Azurite's Blob service, in memory, with telemetry off, in a temporary working folder. With
 * `oauth`, it serves HTTPS with a self-signed certificate for 127.0.0.1 (returned, for the client to
 * trust) and accepts bearer tokens, checking their issuer, audience and lifetime as Azure does (not
 * their signature).
 */
export async function startAzurite(options: { oauth?: boolean } = {}): Promise<RunningServer & { blobEndpoint: string; certificate?: string }> {
  const main = await installed(`azurite-${AZURITE_VERSION}`, 'node_modules/azurite/dist/src/blob/main.js', async (dir) => {
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefix', dir, `azurite@${AZURITE_VERSION}`], { timeout: 10 * 60_000, maxBuffer: 64 * 1024 * 1024 })
  })
  const workDir = await mkdtemp(join(tmpdir(), 'sluice-azurite-'))
  const args = [main, '--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence', '--skipApiVersionCheck', '--disableTelemetry']
  let certificate: string | undefined
  if (options.oauth === true) {
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(workDir, 'key.pem'), '-out', join(workDir, 'cert.pem')])
    certificate = await readFile(join(workDir, 'cert.pem'), 'utf8')
    args.push('--oauth', 'basic', '--cert', join(workDir, 'cert.pem'), '--key', join(workDir, 'key.pem'))
  }
  // Azurite needs Node 22+; the project's own Node (the one running this test) is 24.
  const child = spawn(process.execPath, args, { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] })
  const port = await waitForLine(child, /listens on https?:\/\/127\.0\.0\.1:(\d+)/, 'azurite')
  const endpoint = `${options.oauth === true ? 'https' : 'http'}://127.0.0.1:${port}`
  const server = running(child, endpoint)
  return {
    endpoint,
    blobEndpoint: `${endpoint}/${AZURITE_ACCOUNT}`,
    certificate,
    async stop() {
      await server.stop()
      await rm(workDir, { recursive: true, force: true })
    },
  }
}

/** fake-gcs-server, in memory, plain HTTP. */
export async function startFakeGcs(): Promise<RunningServer> {
  const binary = await installed(`fake-gcs-server-${FAKE_GCS_SERVER_VERSION}`, 'fake-gcs-server', async (dir) => {
    await run('go', ['install', `github.com/fsouza/fake-gcs-server@${FAKE_GCS_SERVER_VERSION}`], {
      env: { ...process.env, GOBIN: dir, GOFLAGS: '-mod=mod' },
      timeout: 15 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    })
  })
  // fake-gcs-server reports the port it was given, not the one bound, so pick a free one; retry if taken meanwhile.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const endpoint = `http://127.0.0.1:${port}`
    const child = spawn(binary, ['-scheme', 'http', '-host', '127.0.0.1', '-port', String(port), '-backend', 'memory', '-external-url', endpoint, '-log-level', 'warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    try {
      await waitForHttp(child, `${endpoint}/storage/v1/b`, 'fake-gcs-server')
      return running(child, endpoint)
    } catch (error) {
      child.kill('SIGKILL')
      if (attempt === 3) throw error
    }
  }
}

/**
 * An HTTP proxy in front of a server that checks bearer tokens: requests with `Authorization:
 * Bearer <token>` where the token is in `accepted` are forwarded, others get 401 as Google's API
 * answers an invalid token. fake-gcs-server accepts any token, so this is how a GCS test sees a
 * rejected credential. It records the tokens it saw.
 */
export async function startTokenCheckingProxy(target: string, accepted: Set<string>): Promise<RunningServer & { tokensSeen: string[] }> {
  const tokensSeen: string[] = []
  const targetUrl = new URL(target)
  const server: Server = createServer((req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    if (token !== undefined) tokensSeen.push(token)
    if (token === undefined || !accepted.has(token)) {
      req.resume()
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { code: 401, message: 'Invalid Credentials', errors: [{ reason: 'authError', message: 'Invalid Credentials' }] } }))
      return
    }
    const forward = httpRequest(
      { host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: { ...req.headers, host: targetUrl.host } },
      (upstream: IncomingMessage) => {
        res.writeHead(upstream.statusCode ?? 502, upstream.headers)
        upstream.pipe(res)
      },
    )
    forward.on('error', () => res.destroy())
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    tokensSeen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function running(child: ChildProcess, endpoint: string): RunningServer {
  const killOnExit = (): void => {
    child.kill('SIGKILL')
  }
  process.once('exit', killOnExit)
  return {
    endpoint,
    async stop() {
      process.off('exit', killOnExit)
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    },
  }
}

/** Resolves with the first capture of `pattern` in the child's output; rejects if it exits or 60 s pass. */
function waitForLine(child: ChildProcess, pattern: RegExp, name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => fail(new Error(`${name} did not start within 60 s:\n${output.slice(-2000)}`)), 60_000)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = pattern.exec(output)
      if (match !== null) {
        cleanup()
        resolve(match[1] ?? '')
      }
    }
    const onExit = (code: number | null): void => fail(new Error(`${name} exited (${code}) before it was ready:\n${output.slice(-2000)}`))
    const cleanup = (): void => {
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.stderr?.off('data', onData)
      child.off('exit', onExit)
      // Keep draining output so a chatty server never blocks on a full pipe.
      child.stdout?.resume()
      child.stderr?.resume()
    }
    const fail = (error: Error): void => {
      cleanup()
      child.kill('SIGKILL')
      reject(error)
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', onExit)
  })
}

async function waitForHttp(child: ChildProcess, url: string, name: string): Promise<void> {
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}) before it was ready:\n${output.slice(-2000)}`)
    const ok = await fetch(url).then((response) => response.ok, () => false)
    if (ok) return
    await sleep(100)
  }
  throw new Error(`${name} did not answer ${url} within 60 s:\n${output.slice(-2000)}`)
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/**
 * The path of `file` inside the cached tool folder `name`, installing it first if needed. Test files
 * run in parallel processes: the first to take the lock (a folder, created atomically) installs, the
 * others wait for its marker. A lock older than the longest install is stale.
 */
async function installed(name: string, file: string, install: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(sluiceHome(), 'tools', name)
  await installOnce(dir, async () => {
    console.error(`[object-servers] installing ${name} into ${dir} (once; later runs reuse it)`)
    await rm(dir, { recursive: true, force: true })
    await mkdir(dir, { recursive: true })
    await install(dir)
  })
  return join(dir, file)
}
