/**
 * The Databricks source through a SQL warehouse, for what Sluice cannot read from storage (views,
 * tables without a change feed, arbitrary queries): polls a table or query for new rows by an
 * incrementing column, a timestamp column, or both — the modes of Kafka Connect's JDBC source.
 *
 * - `incrementing`: rows with `column > last`, in column order. New rows only; updates are missed.
 * - `timestamp`: rows with `last < ts < now - delay`, in timestamp order: new and updated rows. Rows
 *   sharing the last timestamp are all read before it is passed, since the upper bound excludes
 *   timestamps that could still receive rows (`timestampDelayMs`).
 * - `timestamp+incrementing`: `(ts = lastTs AND id > lastId) OR ts > lastTs`, ordered by both: each
 *   version of a row exactly once, even with many rows per timestamp.
 *
 * As with any query-based capture, deletes are not seen, and a row committed later with a smaller
 * id or older timestamp than one already read is missed: prefer the Delta source where possible.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { DatabricksClient, Row, StatementParameter } from '../databricks/index.ts'
import { SluiceError } from '../errors.ts'
import type { OutgoingMessage } from '../kafka/index.ts'
import { toJson } from './json.ts'
import type { Source, SourceBatch } from './source.ts'

export type SqlSourceMode = 'incrementing' | 'timestamp' | 'timestamp+incrementing'

/** The position after the last row published: column values as text (exact for bigints and timestamps). */
export type SqlOffset = { incrementing?: string; timestamp?: string }

export interface SqlSourceOptions {
  /** Names the source's offsets. Default `sql-<topic>`. */
  name?: string
  databricks: DatabricksClient
  warehouseId: string
  /** A table or view (`catalog.schema.name`), or `query` instead. */
  table?: string
  /** A SELECT whose rows to publish; it becomes a subquery (no ORDER BY or LIMIT in it). */
  query?: string
  mode: SqlSourceMode
  /** Strictly increasing column (incrementing modes). */
  incrementingColumn?: string
  /** Last-modified column (timestamp modes). */
  timestampColumn?: string
  /** How long a timestamp stays open for late rows before it is passed, ms. Default 0. */
  timestampDelayMs?: number
  /** Start after these values on first start (default: from the beginning). */
  initialOffset?: SqlOffset
  topic: string
  partitions?: number
  keyColumns?: readonly string[]
  /** Rows per statement. Default 10,000. */
  batchRows?: number
  pollIntervalMs?: number
}

export function sqlSource(options: SqlSourceOptions): Source<SqlOffset> {
  const plan = queryPlan(options)
  return {
    name: options.name ?? `sql-${options.topic}`,
    topics: [{ name: options.topic, partitions: options.partitions ?? 1 }],
    read: (offset, signal) => poll(options, plan, offset ?? options.initialOffset ?? {}, signal),
  }
}

interface QueryPlan {
  sql: string
  parameters(offset: SqlOffset, upperTimestamp: Date): StatementParameter[]
  offsetOf(row: Row): SqlOffset
}

async function* poll(options: SqlSourceOptions, plan: QueryPlan, start: SqlOffset, signal: AbortSignal): AsyncGenerator<SourceBatch<SqlOffset>> {
  let offset = start
  const batchRows = options.batchRows ?? 10_000
  while (!signal.aborted) {
    const upper = new Date(Date.now() - (options.timestampDelayMs ?? 0))
    const result = await options.databricks.executeStatement(plan.sql, { warehouseId: options.warehouseId, parameters: plan.parameters(offset, upper), rowLimit: batchRows, signal })
    const records: OutgoingMessage[] = []
    for await (const row of result) {
      records.push(encode(row, options))
      offset = plan.offsetOf(row)
    }
    if (records.length > 0) yield { records, offset }
    // A full batch means more rows are waiting: read on at once.
    if (records.length < batchRows) await sleep(options.pollIntervalMs ?? 1000, undefined, { signal }).catch(() => undefined)
  }
}

function queryPlan(options: SqlSourceOptions): QueryPlan {
  if ((options.table === undefined) === (options.query === undefined)) {
    throw new SluiceError('APP_CONFIG', 'sqlSource needs exactly one of table and query', { fix: 'Set table: "catalog.schema.name", or query: "SELECT …".' })
  }
  const from = options.table !== undefined ? quoteName(options.table) : `(${options.query}) AS sluice_source`
  const id = options.mode === 'timestamp' ? undefined : required(options.incrementingColumn, 'incrementingColumn', options.mode)
  const ts = options.mode === 'incrementing' ? undefined : required(options.timestampColumn, 'timestampColumn', options.mode)
  const idParam = (offset: SqlOffset): StatementParameter => ({ name: 'last_id', value: offset.incrementing ?? '-9223372036854775808', type: 'BIGINT' })
  const tsParams = (offset: SqlOffset, upper: Date): StatementParameter[] => [
    { name: 'last_ts', value: offset.timestamp ?? '0001-01-01T00:00:00.000Z', type: 'TIMESTAMP' },
    { name: 'upper_ts', value: upper.toISOString(), type: 'TIMESTAMP' },
  ]
  const text = (value: unknown) => (value instanceof Date ? value.toISOString() : String(value))
  switch (options.mode) {
    case 'incrementing':
      return {
        sql: `SELECT * FROM ${from} WHERE ${quote(id as string)} > :last_id ORDER BY ${quote(id as string)}`,
        parameters: (offset) => [idParam(offset)],
        offsetOf: (row) => ({ incrementing: text(column(row, id as string)) }),
      }
    case 'timestamp':
      return {
        sql: `SELECT * FROM ${from} WHERE ${quote(ts as string)} > :last_ts AND ${quote(ts as string)} < :upper_ts ORDER BY ${quote(ts as string)}`,
        parameters: (offset, upper) => tsParams(offset, upper),
        offsetOf: (row) => ({ timestamp: text(column(row, ts as string)) }),
      }
    case 'timestamp+incrementing':
      return {
        sql: `SELECT * FROM ${from} WHERE ${quote(ts as string)} < :upper_ts AND ((${quote(ts as string)} = :last_ts AND ${quote(id as string)} > :last_id) OR ${quote(ts as string)} > :last_ts) ORDER BY ${quote(ts as string)}, ${quote(id as string)}`,
        parameters: (offset, upper) => [...tsParams(offset, upper), idParam(offset)],
        offsetOf: (row) => ({ timestamp: text(column(row, ts as string)), incrementing: text(column(row, id as string)) }),
      }
  }
}

function encode(row: Row, options: SqlSourceOptions): OutgoingMessage {
  const key = options.keyColumns === undefined ? null : Buffer.from(options.keyColumns.length === 1 ? String(column(row, options.keyColumns[0] as string)) : toJson(Object.fromEntries(options.keyColumns.map((name) => [name, column(row, name)]))))
  return { topic: options.topic, key, value: Buffer.from(toJson(row)) }
}

function column(row: Row, name: string): unknown {
  if (!(name in row)) {
    throw new SluiceError('SOURCE_FAILED', `Column "${name}" is not in the rows of the SQL source`, { fix: `Use one of: ${Object.keys(row).join(', ')}.` })
  }
  return row[name]
}

function required(value: string | undefined, field: string, mode: SqlSourceMode): string {
  if (value === undefined || value === '') throw new SluiceError('APP_CONFIG', `sqlSource mode '${mode}' needs ${field}`, { fix: `Set ${field} to the column to follow.` })
  return value
}

/** `a.b.c` with each part backquoted, as Databricks SQL quotes identifiers. */
function quoteName(name: string): string {
  return name
    .split('.')
    .map((part) => quote(part.replace(/^`|`$/g, '')))
    .join('.')
}

function quote(identifier: string): string {
  return `\`${identifier.replace(/`/g, '``')}\``
}
