/**
 * The emulator's Unity Catalog: tables registered by the test (`addTable`), looked up by full name,
 * and temporary table credentials vended in the shape of the cloud their storage location names
 * (s3:// → AWS, abfss:// → Azure SAS, gs:// → GCP), expiring after `credentialLifetimeMs`.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { ApiError } from './statements.ts'

export interface EmulatedTable {
  catalog: string
  schema: string
  name: string
  storageLocation: string
  columns: Array<{ name: string; typeText: string; typeName: string; nullable?: boolean; partitionIndex?: number }>
  tableType?: 'MANAGED' | 'EXTERNAL'
  dataSourceFormat?: string
  /** Whether the caller holds EXTERNAL USE SCHEMA (credential vending is refused otherwise). Default true. */
  externalUseSchema?: boolean
}

export interface VendedCredential {
  tableId: string
  operation: string
  secret: string
}

export class UnityCatalogService {
  readonly #tables = new Map<string, EmulatedTable & { tableId: string }>()
  /** Every credential vended, so tests can check none of it leaks. */
  readonly vended: VendedCredential[] = []
  readonly #credentialLifetimeMs: number

  constructor(credentialLifetimeMs: number) {
    this.#credentialLifetimeMs = credentialLifetimeMs
  }

  add(table: EmulatedTable): string {
    const tableId = randomUUID()
    this.#tables.set(`${table.catalog}.${table.schema}.${table.name}`.toLowerCase(), { ...table, tableId })
    return tableId
  }

  get(fullName: string): unknown {
    const table = this.#tables.get(fullName.toLowerCase())
    if (table === undefined) throw new ApiError(404, 'TABLE_DOES_NOT_EXIST', `Table '${fullName}' does not exist.`)
    return {
      name: table.name,
      catalog_name: table.catalog,
      schema_name: table.schema,
      full_name: `${table.catalog}.${table.schema}.${table.name}`,
      table_type: table.tableType ?? 'EXTERNAL',
      data_source_format: table.dataSourceFormat ?? 'DELTA',
      storage_location: table.storageLocation,
      table_id: table.tableId,
      columns: table.columns.map((column, position) => ({
        name: column.name,
        type_text: column.typeText,
        type_name: column.typeName,
        type_json: JSON.stringify({ name: column.name, type: column.typeText.toLowerCase(), nullable: column.nullable ?? true, metadata: {} }),
        position,
        nullable: column.nullable ?? true,
        ...(column.partitionIndex === undefined ? {} : { partition_index: column.partitionIndex }),
      })),
      properties: { 'delta.enableChangeDataFeed': 'true' },
      created_at: Date.now(),
    }
  }

  credentials(body: Record<string, unknown>): unknown {
    const operation = body.operation
    if (operation !== 'READ' && operation !== 'READ_WRITE') throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid operation ${String(operation)}`)
    const table = [...this.#tables.values()].find((candidate) => candidate.tableId === body.table_id)
    if (table === undefined) throw new ApiError(404, 'TABLE_DOES_NOT_EXIST', `Table with id ${String(body.table_id)} does not exist.`)
    if (table.externalUseSchema === false) {
      throw new ApiError(403, 'PERMISSION_DENIED', `User does not have EXTERNAL USE SCHEMA on Schema '${table.catalog}.${table.schema}'.`)
    }
    const secret = randomBytes(20).toString('base64url')
    this.vended.push({ tableId: table.tableId, operation, secret })
    const common = { expiration_time: Date.now() + this.#credentialLifetimeMs, url: table.storageLocation }
    const scheme = new URL(table.storageLocation).protocol
    if (scheme === 's3:') {
      return { ...common, aws_temp_credentials: { access_key_id: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`, secret_access_key: secret, session_token: `FwoG${randomBytes(24).toString('base64url')}` } }
    }
    if (scheme === 'abfss:') return { ...common, azure_user_delegation_sas: { sas_token: `sv=2023-11-03&sr=d&sp=${operation === 'READ' ? 'rl' : 'racwdl'}&sig=${secret}` } }
    if (scheme === 'gs:') return { ...common, gcp_oauth_token: { oauth_token: `ya29.${secret}` } }
    throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Storage location ${table.storageLocation} is not on a supported cloud`)
  }
}
