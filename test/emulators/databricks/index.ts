/**
 * A local emulator of the Databricks REST contract Sluice uses, for tests: an HTTP server on
 * 127.0.0.1 (a free port) with the SQL Statement Execution API 2.0 running real SQL on SQLite
 * (see sql-engine.ts for the dialect), presigned-style result links on a separate path that refuse
 * requests carrying an Authorization header (as cloud storage refuses them), Unity Catalog tables
 * and temporary credentials, the OAuth token endpoint `/oidc/v1/token`, personal access token
 * checks, and injectable faults (429 with Retry-After, 503, connection resets, stalls, slow statements).
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DatabaseSync } from 'node:sqlite'
import { ApiError, StatementService } from './statements.ts'
import { UnityCatalogService, type EmulatedTable } from './unity-catalog.ts'

export type { EmulatedTable } from './unity-catalog.ts'

export interface EmulatorOptions {
  personalAccessTokens?: string[]
  oauthClients?: Array<{ clientId: string; clientSecret: string }>
  /** `expires_in` of issued OAuth tokens. Default 3600. */
  oauthTokenLifetimeSeconds?: number
  warehouseIds?: string[]
  /** Rows per result chunk. Default 1000. */
  rowsPerChunk?: number
  /** How long each statement takes before it runs. Default 0. */
  statementDelayMs?: number
  linkLifetimeMs?: number
  credentialLifetimeMs?: number
}

export interface Fault {
  /** Path prefix (or pattern) the fault applies to. */
  path: string | RegExp
  method?: string
  /** Answer with this status (with a Databricks error body) … */
  status?: number
  retryAfter?: string
  /** … or cut the connection without an answer … */
  reset?: boolean
  /** … or hold the request this long before handling it normally. */
  stallMs?: number
  /** How many requests it hits. Default 1. */
  times?: number
}

export interface RecordedRequest {
  method: string
  path: string
  authorization: string | undefined
  at: number
  status: number
}

export interface DatabricksEmulator {
  /** `http://127.0.0.1:PORT`, the value for DATABRICKS_HOST. */
  host: string
  /** The SQLite database statements run on; tests create and fill tables through it. */
  db: DatabaseSync
  requests: RecordedRequest[]
  /** Every OAuth access token issued, in order. */
  issuedTokens: string[]
  vendedCredentials: UnityCatalogService['vended']
  /** Registers a Unity Catalog table; returns its table id. */
  addTable(table: EmulatedTable): string
  injectFault(fault: Fault): void
  statementState(id: string): string | undefined
  /** Makes every external link handed out so far expire now. */
  expireLinks(): void
  setStatementDelay(ms: number): void
  close(): Promise<void>
}

export async function startDatabricksEmulator(options: EmulatorOptions = {}): Promise<DatabricksEmulator> {
  const db = new DatabaseSync(':memory:')
  const patTokens = new Set(options.personalAccessTokens ?? [])
  const oauthTokens = new Map<string, number>() // token → expiry
  const issuedTokens: string[] = []
  const faults: Array<Fault & { remaining: number }> = []
  const requests: RecordedRequest[] = []
  let host = ''
  const settings = {
    warehouseIds: new Set(options.warehouseIds ?? ['emulator-warehouse']),
    rowsPerChunk: options.rowsPerChunk ?? 1000,
    delayMs: options.statementDelayMs ?? 0,
    linkLifetimeMs: options.linkLifetimeMs ?? 15 * 60_000,
    baseUrl: () => host,
  }
  const statements = new StatementService(db, settings)
  const catalog = new UnityCatalogService(options.credentialLifetimeMs ?? 3_600_000)

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }

  const authorized = (req: IncomingMessage): boolean => {
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')
    if (match === null) return false
    const token = match[1]!
    const expiry = oauthTokens.get(token)
    return patTokens.has(token) || (expiry !== undefined && Date.now() < expiry)
  }

  const issueToken = (req: IncomingMessage, body: string): { status: number; body: unknown } => {
    const form = new URLSearchParams(body)
    let clientId = form.get('client_id')
    let clientSecret = form.get('client_secret')
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')
    if (basic !== null) {
      const [id, secret] = Buffer.from(basic[1]!, 'base64').toString().split(':').map(decodeURIComponent)
      clientId = id ?? null
      clientSecret = secret ?? null
    }
    if (form.get('grant_type') !== 'client_credentials') return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' } }
    if (form.get('scope') !== 'all-apis') return { status: 400, body: { error: 'invalid_scope', error_description: 'scope must be all-apis' } }
    const client = (options.oauthClients ?? []).find((candidate) => candidate.clientId === clientId && candidate.clientSecret === clientSecret)
    if (client === undefined) return { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed' } }
    const lifetime = options.oauthTokenLifetimeSeconds ?? 3600
    const token = `eyJ${randomBytes(24).toString('base64url')}`
    oauthTokens.set(token, Date.now() + lifetime * 1000)
    issuedTokens.push(token)
    return { status: 200, body: { access_token: token, token_type: 'Bearer', expires_in: lifetime, scope: 'all-apis' } }
  }

  const route = async (req: IncomingMessage, res: ServerResponse, path: string, body: string): Promise<void> => {
    const method = req.method ?? 'GET'
    if (method === 'POST' && path === '/oidc/v1/token') {
      const answer = issueToken(req, body)
      return send(res, answer.status, answer.body)
    }
    const download = /^\/external-results\/([0-9a-f]+)$/.exec(path)
    if (download !== null && method === 'GET') {
      if (req.headers.authorization !== undefined) {
        // What S3 answers a presigned URL that also carries an Authorization header.
        res.writeHead(400, { 'content-type': 'application/xml' })
        return void res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified</Message></Error>')
      }
      try {
        const file = statements.download(download[1]!)
        res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.body.byteLength) })
        return void res.end(file.body)
      } catch {
        res.writeHead(403, { 'content-type': 'application/xml' })
        return void res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>')
      }
    }
    if (req.headers.authorization === undefined) {
      return send(res, 401, { error_code: 'UNAUTHENTICATED', message: 'Credential was not sent or was of an unsupported type for this API.' })
    }
    if (!authorized(req)) return send(res, 403, { error_code: '403', message: 'Invalid access token.' })
    const json = body === '' ? {} : (JSON.parse(body) as Record<string, unknown>)
    let match: RegExpExecArray | null
    if (method === 'POST' && path === '/api/2.0/sql/statements') return send(res, 200, await statements.submit(json))
    if (method === 'GET' && (match = /^\/api\/2\.0\/sql\/statements\/([^/]+)$/.exec(path)) !== null) return send(res, 200, statements.get(match[1]!))
    if (method === 'POST' && (match = /^\/api\/2\.0\/sql\/statements\/([^/]+)\/cancel$/.exec(path)) !== null) {
      statements.cancel(match[1]!)
      return send(res, 200, {})
    }
    if (method === 'GET' && (match = /^\/api\/2\.0\/sql\/statements\/([^/]+)\/result\/chunks\/(\d+)$/.exec(path)) !== null) {
      return send(res, 200, statements.chunk(match[1]!, Number(match[2])))
    }
    if (method === 'GET' && (match = /^\/api\/2\.1\/unity-catalog\/tables\/([^/]+)$/.exec(path)) !== null) return send(res, 200, catalog.get(decodeURIComponent(match[1]!)))
    if (method === 'POST' && path === '/api/2.0/unity-catalog/temporary-table-credentials') return send(res, 200, catalog.credentials(json))
    return send(res, 404, { error_code: 'ENDPOINT_NOT_FOUND', message: `No API found for '${method} ${path}'` })
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!
      const record: RecordedRequest = { method: req.method ?? 'GET', path, authorization: req.headers.authorization, at: Date.now(), status: 0 }
      requests.push(record)
      res.on('finish', () => (record.status = res.statusCode))
      void handle(req, res, path, Buffer.concat(chunks).toString('utf8'))
    })
  })

  const handle = async (req: IncomingMessage, res: ServerResponse, path: string, body: string) => {
    const fault = faults.find((candidate) => candidate.remaining > 0 && (candidate.method === undefined || candidate.method === req.method) &&
      (typeof candidate.path === 'string' ? path.startsWith(candidate.path) : candidate.path.test(path)))
    if (fault !== undefined) {
      fault.remaining--
      if (fault.reset === true) return void req.socket.destroy()
      if (fault.status !== undefined) {
        const code = fault.status === 429 ? 'REQUEST_LIMIT_EXCEEDED' : 'TEMPORARILY_UNAVAILABLE'
        return send(res, fault.status, { error_code: code, message: `Emulated fault: HTTP ${fault.status}` }, fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter })
      }
      if (fault.stallMs !== undefined) await new Promise((resolve) => setTimeout(resolve, fault.stallMs))
      if (req.socket.destroyed) return
    }
    try {
      await route(req, res, path, body)
    } catch (error) {
      if (error instanceof ApiError) return send(res, error.status, { error_code: error.errorCode, message: error.message })
      send(res, 500, { error_code: 'INTERNAL_ERROR', message: error instanceof Error ? error.message : String(error) })
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    host,
    db,
    requests,
    issuedTokens,
    vendedCredentials: catalog.vended,
    addTable: (table) => catalog.add(table),
    injectFault: (fault) => faults.push({ ...fault, remaining: fault.times ?? 1 }),
    statementState: (id) => statements.state(id),
    expireLinks: () => statements.expireLinks(),
    setStatementDelay: (ms) => (settings.delayMs = ms),
    close: async () => {
      statements.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      db.close()
    },
  }
}
