/**
 * Runs SQL on a SQL warehouse through the Statement Execution API 2.0: submit
 * (`POST /api/2.0/sql/statements`, waiting up to `wait_timeout` on the server), poll
 * (`GET /api/2.0/sql/statements/{id}`) until a terminal state, cancel
 * (`POST /api/2.0/sql/statements/{id}/cancel`) when the caller aborts or the time limit passes.
 */
import { SluiceError } from '../errors.ts'
import type { DatabricksApi } from './api.ts'
import { sleep } from './retry.ts'
import { StatementResult } from './statement-result.ts'
import type { StatementState, WireStatementParameter, WireStatementResponse } from './statement-wire.ts'

/** A named parameter marker's value (`:name` in the SQL). `type` is a SQL type name such as INT, DATE, DECIMAL(10,2); default STRING. */
export interface StatementParameter {
  name: string
  value: string | number | bigint | boolean | null
  type?: string
}

export interface ExecuteStatementOptions {
  /** The SQL warehouse that runs the statement. */
  warehouseId: string
  /** Default catalog, like USE CATALOG. */
  catalog?: string
  /** Default schema, like USE SCHEMA. */
  schema?: string
  /** Values for `:name` markers: a list, or a record of name → value (typed STRING unless a list entry says). */
  parameters?: StatementParameter[] | Record<string, StatementParameter['value']>
  /** INLINE (results in the API responses, up to 25 MiB) or EXTERNAL_LINKS (presigned URLs, any size). Default: INLINE for JSON_ARRAY, EXTERNAL_LINKS for ARROW_STREAM. */
  disposition?: 'INLINE' | 'EXTERNAL_LINKS'
  /** JSON_ARRAY (default) or ARROW_STREAM (needs EXTERNAL_LINKS). */
  format?: 'JSON_ARRAY' | 'ARROW_STREAM'
  /** Seconds the submission waits on the server for the result: 0 (return at once), or 5 to 50. Default 10. */
  waitTimeout?: number
  /** What the server does when waitTimeout passes: CONTINUE (default; Sluice then polls) or CANCEL. */
  onWaitTimeout?: 'CONTINUE' | 'CANCEL'
  /** Cut the result to this many rows (the result says `truncated`). */
  rowLimit?: number
  /** Cut the result to this many bytes. */
  byteLimit?: number
  /** Cancel the statement and fail with DATABRICKS_TIMEOUT if it has not finished after this many ms. Default: no limit of Sluice's own. */
  timeoutMs?: number
  /** Aborting cancels the statement on the warehouse and stops reading its result. */
  signal?: AbortSignal
}

const FIRST_POLL_DELAY_MS = 100
const MAX_POLL_DELAY_MS = 2000
const TERMINAL: ReadonlySet<StatementState> = new Set(['SUCCEEDED', 'FAILED', 'CANCELED', 'CLOSED'])

export async function executeStatement(api: DatabricksApi, sql: string, options: ExecuteStatementOptions): Promise<StatementResult> {
  const request = statementRequest(sql, options)
  const { signal } = options
  signal?.throwIfAborted()
  const deadline = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs
  let response = await api.json<WireStatementResponse>({ method: 'POST', path: '/api/2.0/sql/statements', body: request, signal })
  const statementId = response.statement_id
  const statementPath = `/api/2.0/sql/statements/${encodeURIComponent(statementId)}`
  api.logger?.debug(`Statement ${statementId} submitted to warehouse ${options.warehouseId}: ${response.status.state}`)
  try {
    for (let delay = FIRST_POLL_DELAY_MS; !TERMINAL.has(response.status.state); delay = Math.min(delay * 2, MAX_POLL_DELAY_MS)) {
      if (Date.now() >= deadline) {
        await cancelStatement(api, statementId)
        throw new SluiceError('DATABRICKS_TIMEOUT', `Statement ${statementId} was still ${response.status.state} after ${options.timeoutMs} ms, so Sluice canceled it`, {
          fix: 'Raise timeoutMs, make the query cheaper, or check the warehouse is running and not queued.',
          retriable: true,
        })
      }
      await sleep(Math.min(delay, deadline - Date.now()), signal)
      response = await api.json<WireStatementResponse>({ method: 'GET', path: statementPath, signal })
    }
  } catch (error) {
    if (signal?.aborted === true) {
      await cancelStatement(api, statementId)
      throw signal.reason
    }
    throw error
  }
  api.logger?.debug(`Statement ${statementId} ${response.status.state}${response.manifest === undefined ? '' : `: ${response.manifest.total_row_count ?? '?'} rows in ${response.manifest.total_chunk_count ?? '?'} chunks${response.manifest.truncated === true ? ' (truncated by row_limit/byte_limit)' : ''}`}`)
  return resultOf(api, response, sql, signal)
}

/** Asks the warehouse to cancel a statement; the answer only confirms receipt. */
export async function cancelStatement(api: DatabricksApi, statementId: string): Promise<void> {
  await api.json({ method: 'POST', path: `/api/2.0/sql/statements/${encodeURIComponent(statementId)}/cancel`, idempotent: true })
}

function resultOf(api: DatabricksApi, response: WireStatementResponse, sql: string, signal: AbortSignal | undefined): StatementResult {
  const { status, statement_id: id } = response
  const excerpt = sql.length > 120 ? `${sql.slice(0, 117)}...` : sql
  switch (status.state) {
    case 'SUCCEEDED':
      if (response.manifest === undefined) {
        throw new SluiceError('DATABRICKS_API', `Statement ${id} SUCCEEDED without a result manifest`, { fix: 'Rerun the statement; report this if it repeats.' })
      }
      return new StatementResult(api, id, response.manifest, response.result, signal)
    case 'FAILED': {
      const code = status.error?.error_code
      const sqlState = status.sql_state === undefined ? '' : ` [SQLSTATE ${status.sql_state}]`
      const transient = code === 'TEMPORARILY_UNAVAILABLE' || code === 'SERVICE_UNDER_MAINTENANCE' || code === 'WORKSPACE_TEMPORARILY_UNAVAILABLE' || code === 'RESOURCE_EXHAUSTED'
      return fail(new SluiceError('DATABRICKS_SQL', `Statement ${id} failed${sqlState}${code === undefined ? '' : ` (${code})`}: ${status.error?.message ?? 'no message'} — SQL: ${excerpt}`, {
        fix: transient ? 'The warehouse was temporarily unable to run it; retry shortly.' : 'Fix the SQL (table and column names, types, privileges) as the message says.',
        retriable: transient,
      }))
    }
    case 'CANCELED':
      return fail(new SluiceError('DATABRICKS_SQL', `Statement ${id} was canceled (by on_wait_timeout=CANCEL, a user, or the warehouse's STATEMENT_TIMEOUT) — SQL: ${excerpt}`, {
        fix: 'Use onWaitTimeout CONTINUE, or raise the warehouse STATEMENT_TIMEOUT, or find who canceled it in the query history.',
      }))
    default:
      return fail(new SluiceError('DATABRICKS_SQL', `Statement ${id} is ${status.state}: its result is no longer available`, {
        fix: 'Run the statement again.',
      }))
  }
}

function fail(error: SluiceError): never {
  throw error
}

function statementRequest(sql: string, options: ExecuteStatementOptions): Record<string, unknown> {
  const format = options.format ?? 'JSON_ARRAY'
  const disposition = options.disposition ?? (format === 'ARROW_STREAM' ? 'EXTERNAL_LINKS' : 'INLINE')
  if (format === 'ARROW_STREAM' && disposition === 'INLINE') {
    throw new SluiceError('CONFIG_INVALID', 'format ARROW_STREAM cannot be combined with disposition INLINE', {
      fix: "Use disposition: 'EXTERNAL_LINKS' with ARROW_STREAM, or format: 'JSON_ARRAY' with INLINE.",
    })
  }
  const waitTimeout = options.waitTimeout ?? 10
  if (!Number.isInteger(waitTimeout) || (waitTimeout !== 0 && (waitTimeout < 5 || waitTimeout > 50))) {
    throw new SluiceError('CONFIG_INVALID', `waitTimeout is ${waitTimeout}; the API takes 0 or a whole number of seconds from 5 to 50`, {
      fix: 'Give waitTimeout as 0 (return at once and poll) or 5–50 seconds.',
    })
  }
  if (options.warehouseId === undefined || options.warehouseId === '') {
    throw new SluiceError('CONFIG_INVALID', 'warehouseId is missing: a statement needs the SQL warehouse that runs it', {
      fix: 'Give warehouseId (the ID on the warehouse\'s Connection details tab).',
    })
  }
  return {
    statement: sql,
    warehouse_id: options.warehouseId,
    ...(options.catalog === undefined ? {} : { catalog: options.catalog }),
    ...(options.schema === undefined ? {} : { schema: options.schema }),
    ...(options.parameters === undefined ? {} : { parameters: wireParameters(options.parameters) }),
    disposition,
    format,
    wait_timeout: `${waitTimeout}s`,
    ...(waitTimeout === 0 ? {} : { on_wait_timeout: options.onWaitTimeout ?? 'CONTINUE' }),
    ...(options.rowLimit === undefined ? {} : { row_limit: options.rowLimit }),
    ...(options.byteLimit === undefined ? {} : { byte_limit: options.byteLimit }),
  }
}

/** The API takes every value as a string (or null) with an optional SQL type name. */
function wireParameters(parameters: NonNullable<ExecuteStatementOptions['parameters']>): WireStatementParameter[] {
  const list: StatementParameter[] = Array.isArray(parameters)
    ? parameters
    : Object.entries(parameters).map(([name, value]) => ({ name, value }))
  return list.map(({ name, value, type }) => ({
    name,
    value: value === null ? null : String(value),
    ...(type === undefined ? {} : { type }),
  }))
}
