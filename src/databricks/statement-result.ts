/**
 * The result of a SUCCEEDED statement, read chunk by chunk: INLINE chunks from the statement API,
 * EXTERNAL_LINKS chunks downloaded from their presigned URLs (refreshed when expired). At most two
 * chunks are in memory at once — the one being read and the next, fetched meanwhile.
 */
import { tableFromIPC, type Decimal, type RecordBatch } from 'apache-arrow'
import { SluiceError } from '../errors.ts'
import type { DatabricksApi } from './api.ts'
import { fromArrowCell, fromJsonCell, type ResultColumn, type Row } from './sql-types.ts'
import type { WireExternalLink, WireManifest, WireResultChunk } from './statement-wire.ts'

/** A link this close to its expiration is renewed before use. */
const LINK_EXPIRY_MARGIN_MS = 10_000

type ChunkData = { kind: 'json'; rows: unknown[][] } | { kind: 'arrow'; batches: RecordBatch[] }

export class StatementResult implements AsyncIterable<Row> {
  readonly statementId: string
  readonly format: 'JSON_ARRAY' | 'ARROW_STREAM'
  readonly columns: readonly ResultColumn[]
  /** Rows in the whole result, when the server says. */
  readonly totalRowCount: number | undefined
  readonly totalChunkCount: number | undefined
  /** True when row_limit or byte_limit cut the result short. */
  readonly truncated: boolean
  readonly #api: DatabricksApi
  readonly #signal: AbortSignal | undefined
  #firstChunk: WireResultChunk | undefined

  constructor(api: DatabricksApi, statementId: string, manifest: WireManifest, firstChunk: WireResultChunk | undefined, signal: AbortSignal | undefined) {
    if (manifest.format !== 'JSON_ARRAY' && manifest.format !== 'ARROW_STREAM') {
      throw new SluiceError('DATABRICKS_SQL', `Statement ${statementId} returned format ${manifest.format}, which Sluice does not read`, {
        fix: 'Ask for format JSON_ARRAY or ARROW_STREAM.',
      })
    }
    this.#api = api
    this.statementId = statementId
    this.format = manifest.format
    this.columns = (manifest.schema.columns ?? []).map((column) => ({
      name: column.name,
      position: column.position,
      typeName: column.type_name,
      typeText: column.type_text,
      ...(column.type_precision === undefined ? {} : { typePrecision: column.type_precision }),
      ...(column.type_scale === undefined ? {} : { typeScale: column.type_scale }),
    })).sort((a, b) => a.position - b.position)
    this.totalRowCount = manifest.total_row_count
    this.totalChunkCount = manifest.total_chunk_count
    this.truncated = manifest.truncated === true
    this.#firstChunk = firstChunk
    this.#signal = signal
  }

  [Symbol.asyncIterator](): AsyncIterator<Row> {
    return this.rows()
  }

  /** Every row, typed by the manifest (see sql-types.ts for the mapping), in result order. */
  async *rows(): AsyncGenerator<Row> {
    for await (const chunk of this.#chunks()) {
      if (chunk.kind === 'json') {
        for (const cells of chunk.rows) yield this.#jsonRow(cells)
      } else {
        for (const batch of chunk.batches) yield* this.#arrowRows(batch)
      }
    }
  }

  /** The Arrow record batches of an ARROW_STREAM result, chunk by chunk. */
  async *recordBatches(): AsyncGenerator<RecordBatch> {
    if (this.format !== 'ARROW_STREAM') {
      throw new SluiceError('DATABRICKS_SQL', `Statement ${this.statementId} returned ${this.format}, not Arrow record batches`, {
        fix: "Execute the statement with format: 'ARROW_STREAM' (and disposition EXTERNAL_LINKS), or iterate its rows.",
      })
    }
    for await (const chunk of this.#chunks()) {
      if (chunk.kind === 'arrow') yield* chunk.batches
    }
  }

  /** Chunks in order, fetching the next while the current one is read. */
  async *#chunks(): AsyncGenerator<ChunkData> {
    let wire: WireResultChunk | undefined = this.#firstChunk ?? (this.totalChunkCount === 0 ? undefined : await this.#fetchChunk(0))
    this.#firstChunk = undefined // the first chunk is read once; a second iteration fetches it again
    let data = wire === undefined ? undefined : this.#load(wire)
    while (wire !== undefined && data !== undefined) {
      const nextIndex = wire.next_chunk_index ?? wire.external_links?.at(-1)?.next_chunk_index
      const nextWire = nextIndex === undefined ? undefined : this.#fetchChunk(nextIndex)
      const next = nextWire?.then((chunk) => ({ chunk, data: this.#load(chunk) }))
      next?.catch(() => {}) // awaited below; this only keeps an early failure from being unhandled
      yield await data
      if (next === undefined) return
      const fetched = await next
      wire = fetched.chunk
      data = fetched.data
    }
  }

  #fetchChunk(index: number): Promise<WireResultChunk> {
    return this.#api.json<WireResultChunk>({
      method: 'GET',
      path: `/api/2.0/sql/statements/${encodeURIComponent(this.statementId)}/result/chunks/${index}`,
      signal: this.#signal,
    })
  }

  async #load(chunk: WireResultChunk): Promise<ChunkData> {
    if (chunk.external_links === undefined) return { kind: 'json', rows: chunk.data_array ?? [] }
    const bodies: Uint8Array[] = []
    for (const link of chunk.external_links) bodies.push(await this.#download(link))
    if (this.format === 'ARROW_STREAM') return { kind: 'arrow', batches: bodies.flatMap((body) => tableFromIPC(body).batches) }
    return { kind: 'json', rows: bodies.flatMap((body) => JSON.parse(new TextDecoder().decode(body)) as unknown[][]) }
  }

  async #download(link: WireExternalLink): Promise<Uint8Array> {
    const what = `Downloading chunk ${link.chunk_index} of statement ${this.statementId} from its presigned link`
    let current = link
    const expiresSoon = current.expiration !== undefined && Date.parse(current.expiration) - Date.now() < LINK_EXPIRY_MARGIN_MS
    if (expiresSoon) current = await this.#freshLink(link.chunk_index)
    try {
      return await this.#api.download(current.external_link, current.http_headers ?? {}, what, this.#signal)
    } catch (error) {
      // The link may have expired on the way (clock skew, a slow reader): ask for a new one, once.
      if (!(error instanceof SluiceError) || error.code !== 'DATABRICKS_API') throw error
      const renewed = await this.#freshLink(link.chunk_index)
      return this.#api.download(renewed.external_link, renewed.http_headers ?? {}, what, this.#signal)
    }
  }

  async #freshLink(chunkIndex: number): Promise<WireExternalLink> {
    const chunk = await this.#fetchChunk(chunkIndex)
    const link = chunk.external_links?.find((candidate) => candidate.chunk_index === chunkIndex) ?? chunk.external_links?.[0]
    if (link === undefined) {
      throw new SluiceError('DATABRICKS_API', `Statement ${this.statementId} gave no external link for chunk ${chunkIndex}`, {
        fix: 'Rerun the statement; its result may have been closed.',
      })
    }
    return link
  }

  #jsonRow(cells: unknown[]): Row {
    const row: Row = {}
    this.columns.forEach((column, index) => (row[column.name] = fromJsonCell(cells[index], column)))
    return row
  }

  *#arrowRows(batch: RecordBatch): Generator<Row> {
    const vectors = this.columns.map((_, index) => batch.getChildAt(index))
    const scales = batch.schema.fields.map((field) => (field.type as Partial<Decimal>).scale)
    for (let rowIndex = 0; rowIndex < batch.numRows; rowIndex++) {
      const row: Row = {}
      this.columns.forEach((column, index) => (row[column.name] = fromArrowCell(vectors[index]?.get(rowIndex), column, scales[index])))
      yield row
    }
  }
}
