/**
 * The emulator's Statement Execution API 2.0: statements move PENDING → RUNNING → SUCCEEDED/FAILED
 * (or CANCELED) on their own time (`delayMs`, for slow statements), submissions wait up to
 * `wait_timeout` and then CONTINUE or CANCEL, results are cut into chunks of `rowsPerChunk` rows,
 * served INLINE or as external links to a separate download path.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { DatabaseSync } from 'node:sqlite'
import { arrowStream } from './arrow-chunks.ts'
import { formatCell, runSql, StatementFailure, type EngineColumn, type WireParameter } from './sql-engine.ts'

type State = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'CLOSED'

interface Statement {
  id: string
  sql: string
  parameters: WireParameter[]
  format: 'JSON_ARRAY' | 'ARROW_STREAM'
  disposition: 'INLINE' | 'EXTERNAL_LINKS'
  rowLimit: number | undefined
  state: State
  error?: { error_code: string; message: string }
  sqlState?: string
  columns: EngineColumn[]
  rows: unknown[][]
  truncated: boolean
  settled: Promise<void>
  settle: () => void
  timers: NodeJS.Timeout[]
}

export interface ExternalChunk {
  statement: Statement
  chunkIndex: number
  expiresAt: number
}

export class ApiError extends Error {
  readonly status: number
  readonly errorCode: string
  constructor(status: number, errorCode: string, message: string) {
    super(message)
    this.status = status
    this.errorCode = errorCode
  }
}

export interface StatementSettings {
  warehouseIds: ReadonlySet<string>
  rowsPerChunk: number
  /** How long a statement takes (half PENDING, half RUNNING) before SQLite runs it. */
  delayMs: number
  linkLifetimeMs: number
  /** Base URL of the emulator, for external links. */
  baseUrl: () => string
}

export class StatementService {
  readonly #db: DatabaseSync
  readonly #settings: StatementSettings
  readonly #statements = new Map<string, Statement>()
  readonly #links = new Map<string, ExternalChunk>()

  constructor(db: DatabaseSync, settings: StatementSettings) {
    this.#db = db
    this.#settings = settings
  }

  /** The ids of statements that are not finished yet, for tests that check cancellation. */
  state(id: string): State | undefined {
    return this.#statements.get(id)?.state
  }

  async submit(body: Record<string, unknown>): Promise<unknown> {
    const sql = body.statement
    if (typeof sql !== 'string' || sql.trim() === '') throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'statement is required')
    if (typeof body.warehouse_id !== 'string' || !this.#settings.warehouseIds.has(body.warehouse_id)) {
      throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Warehouse ${String(body.warehouse_id)} does not exist.`)
    }
    const format = (body.format ?? 'JSON_ARRAY') as string
    const disposition = (body.disposition ?? 'INLINE') as string
    if (format !== 'JSON_ARRAY' && format !== 'ARROW_STREAM') throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `format ${format} is not supported by the emulator`)
    if (disposition !== 'INLINE' && disposition !== 'EXTERNAL_LINKS') throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid disposition ${disposition}`)
    if (disposition === 'INLINE' && format !== 'JSON_ARRAY') throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'The INLINE disposition only supports JSON_ARRAY format')
    const waitSeconds = parseWaitTimeout(body.wait_timeout)
    const onWaitTimeout = (body.on_wait_timeout ?? 'CONTINUE') as string
    if (onWaitTimeout !== 'CONTINUE' && onWaitTimeout !== 'CANCEL') throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid on_wait_timeout ${onWaitTimeout}`)

    let settle = () => {}
    const settled = new Promise<void>((resolve) => (settle = resolve))
    const statement: Statement = {
      id: `01ef${randomUUID().replaceAll('-', '').slice(4)}`,
      sql,
      parameters: Array.isArray(body.parameters) ? (body.parameters as WireParameter[]) : [],
      format,
      disposition,
      rowLimit: typeof body.row_limit === 'number' ? body.row_limit : undefined,
      state: 'PENDING',
      columns: [],
      rows: [],
      truncated: false,
      settled,
      settle,
      timers: [],
    }
    this.#statements.set(statement.id, statement)
    const delay = this.#settings.delayMs
    statement.timers.push(setTimeout(() => statement.state === 'PENDING' && (statement.state = 'RUNNING'), delay / 2))
    statement.timers.push(setTimeout(() => this.#execute(statement), delay))

    if (waitSeconds > 0) {
      let timer: NodeJS.Timeout | undefined
      const waited = await Promise.race([statement.settled.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), waitSeconds * 1000)))])
      clearTimeout(timer)
      if (!waited && onWaitTimeout === 'CANCEL') this.cancel(statement.id)
    }
    return this.#response(statement)
  }

  get(id: string): unknown {
    return this.#response(this.#find(id))
  }

  cancel(id: string): void {
    const statement = this.#find(id)
    if (statement.state === 'PENDING' || statement.state === 'RUNNING') {
      statement.timers.forEach(clearTimeout)
      statement.state = 'CANCELED'
      statement.settle()
    }
  }

  chunk(id: string, chunkIndex: number): unknown {
    const statement = this.#find(id)
    if (statement.state !== 'SUCCEEDED') throw new ApiError(400, 'BAD_REQUEST', `Statement ${id} is in state ${statement.state}; its result cannot be fetched`)
    if (!Number.isInteger(chunkIndex) || chunkIndex < 0 || chunkIndex >= this.#chunkCount(statement)) {
      throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Chunk index ${chunkIndex} is out of range`)
    }
    return this.#chunkData(statement, chunkIndex)
  }

  /** The body of an external link: throws ApiError 403 when it expired or never existed. */
  download(token: string): { contentType: string; body: Uint8Array } {
    const link = this.#links.get(token)
    if (link === undefined || Date.now() > link.expiresAt) throw new ApiError(403, 'AccessDenied', 'Request has expired')
    const { statement, chunkIndex } = link
    const rows = this.#chunkRows(statement, chunkIndex)
    if (statement.format === 'ARROW_STREAM') return { contentType: 'application/vnd.apache.arrow.stream', body: arrowStream(statement.columns, rows) }
    const json = JSON.stringify(rows.map((row) => statement.columns.map((column, index) => formatCell(row[index], column))))
    return { contentType: 'application/json', body: new TextEncoder().encode(json) }
  }

  /** Makes every external link handed out so far expire now. */
  expireLinks(): void {
    for (const link of this.#links.values()) link.expiresAt = 0
  }

  close(): void {
    for (const statement of this.#statements.values()) statement.timers.forEach(clearTimeout)
  }

  #execute(statement: Statement): void {
    if (statement.state !== 'PENDING' && statement.state !== 'RUNNING') return
    try {
      const result = runSql(this.#db, statement.sql, statement.parameters)
      statement.columns = result.columns
      statement.rows = statement.rowLimit === undefined ? result.rows : result.rows.slice(0, statement.rowLimit)
      statement.truncated = statement.rows.length < result.rows.length
      statement.state = 'SUCCEEDED'
    } catch (error) {
      statement.state = 'FAILED'
      statement.error = { error_code: 'BAD_REQUEST', message: error instanceof Error ? error.message : String(error) }
      statement.sqlState = error instanceof StatementFailure ? error.sqlState : 'XX000'
    }
    statement.settle()
  }

  #response(statement: Statement): unknown {
    const status = {
      state: statement.state,
      ...(statement.error === undefined ? {} : { error: statement.error }),
      ...(statement.sqlState === undefined ? {} : { sql_state: statement.sqlState }),
    }
    if (statement.state !== 'SUCCEEDED') return { statement_id: statement.id, status }
    const chunkCount = this.#chunkCount(statement)
    const rowsPerChunk = this.#settings.rowsPerChunk
    const manifest = {
      format: statement.format,
      schema: { column_count: statement.columns.length, columns: statement.columns },
      total_chunk_count: chunkCount,
      total_row_count: statement.rows.length,
      chunks: Array.from({ length: chunkCount }, (_, index) => ({
        chunk_index: index,
        row_offset: index * rowsPerChunk,
        row_count: Math.min(rowsPerChunk, statement.rows.length - index * rowsPerChunk),
      })),
      truncated: statement.truncated,
    }
    return { statement_id: statement.id, status, manifest, ...(chunkCount === 0 ? {} : { result: this.#chunkData(statement, 0) }) }
  }

  #chunkData(statement: Statement, chunkIndex: number): unknown {
    const rows = this.#chunkRows(statement, chunkIndex)
    const position = {
      chunk_index: chunkIndex,
      row_offset: chunkIndex * this.#settings.rowsPerChunk,
      row_count: rows.length,
      ...(chunkIndex + 1 < this.#chunkCount(statement)
        ? { next_chunk_index: chunkIndex + 1, next_chunk_internal_link: `/api/2.0/sql/statements/${statement.id}/result/chunks/${chunkIndex + 1}` }
        : {}),
    }
    if (statement.disposition === 'INLINE') {
      return { ...position, data_array: rows.map((row) => statement.columns.map((column, index) => formatCell(row[index], column))) }
    }
    const token = randomBytes(12).toString('hex')
    const expiresAt = Date.now() + this.#settings.linkLifetimeMs
    this.#links.set(token, { statement, chunkIndex, expiresAt })
    const signature = randomBytes(16).toString('hex')
    return {
      external_links: [{
        ...position,
        byte_count: rows.length * 16,
        external_link: `${this.#settings.baseUrl()}/external-results/${token}?X-Amz-Expires=900&X-Amz-Signature=${signature}`,
        expiration: new Date(expiresAt).toISOString(),
      }],
    }
  }

  #chunkRows(statement: Statement, chunkIndex: number): unknown[][] {
    const size = this.#settings.rowsPerChunk
    return statement.rows.slice(chunkIndex * size, (chunkIndex + 1) * size)
  }

  #chunkCount(statement: Statement): number {
    return Math.ceil(statement.rows.length / this.#settings.rowsPerChunk)
  }

  #find(id: string): Statement {
    const statement = this.#statements.get(id)
    if (statement === undefined) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Statement ${id} does not exist`)
    return statement
  }
}

/** "0s", or "5s" to "50s"; default "10s". */
function parseWaitTimeout(value: unknown): number {
  if (value === undefined) return 10
  const match = typeof value === 'string' ? /^(\d+)s$/.exec(value) : null
  const seconds = match === null ? Number.NaN : Number(match[1])
  if (!(seconds === 0 || (seconds >= 5 && seconds <= 50))) {
    throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `wait_timeout must be 0s or between 5s and 50s, got ${JSON.stringify(value)}`)
  }
  return seconds
}
