/**
 * The JSON shapes of the SQL Statement Execution API 2.0 (`/api/2.0/sql/statements`), as documented.
 * Only the fields Sluice reads are listed.
 */

export type StatementState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'CLOSED'

export interface WireStatementResponse {
  statement_id: string
  status: {
    state: StatementState
    error?: { error_code?: string; message?: string }
    sql_state?: string
  }
  manifest?: WireManifest
  result?: WireResultChunk
}

export interface WireManifest {
  format: 'JSON_ARRAY' | 'ARROW_STREAM' | 'CSV'
  schema: { column_count: number; columns?: WireColumn[] }
  total_chunk_count?: number
  total_row_count?: number
  total_byte_count?: number
  truncated?: boolean
}

export interface WireColumn {
  name: string
  position: number
  type_name: string
  type_text: string
  type_precision?: number
  type_scale?: number
}

export interface WireResultChunk {
  chunk_index?: number
  row_offset?: number
  row_count?: number
  data_array?: unknown[][]
  external_links?: WireExternalLink[]
  next_chunk_index?: number
  next_chunk_internal_link?: string
}

export interface WireExternalLink {
  chunk_index: number
  row_offset?: number
  row_count?: number
  byte_count?: number
  /** Presigned URL (<= 15 minutes): sensitive, never logged. */
  external_link: string
  /** ISO 8601 time the link stops working. */
  expiration?: string
  /** Headers the GET must carry (e.g. a decryption key): sensitive, never logged. */
  http_headers?: Record<string, string>
  next_chunk_index?: number
}

export interface WireStatementParameter {
  name: string
  value: string | null
  type?: string
}
