/**
 * Unity Catalog: a table's metadata (`GET /api/2.1/unity-catalog/tables/{full_name}`) — where its
 * files are, its id, format and columns — and temporary credentials to read (or write) those files
 * directly (`POST /api/2.0/unity-catalog/temporary-table-credentials`), one shape per cloud.
 */
import { inspect } from 'node:util'
import { SluiceError } from '../errors.ts'
import type { DatabricksApi } from './api.ts'

export interface TableColumn {
  name: string
  typeName: string
  typeText: string
  position: number
  nullable: boolean
  /** Position among the partition columns, when the table is partitioned by this column. */
  partitionIndex?: number
  comment?: string
}

export interface TableInfo {
  fullName: string
  catalogName: string
  schemaName: string
  name: string
  tableId: string
  /** MANAGED, EXTERNAL, VIEW, MATERIALIZED_VIEW, STREAMING_TABLE, … */
  tableType: string
  /** DELTA, PARQUET, CSV, …; absent for views. */
  dataSourceFormat: string | undefined
  /** The table's root in cloud storage (`s3://…`, `abfss://…`, `gs://…`); absent for views. */
  storageLocation: string | undefined
  columns: TableColumn[]
  properties: Record<string, string>
}

export type TableOperation = 'READ' | 'READ_WRITE'

interface CredentialsCommon {
  /** When the credentials stop working. Ask for new ones before then. */
  expiresAt: Date
  /** The storage location they are scoped to. */
  url: string
}

/** Temporary table credentials of the cloud that stores the table. Prints with its secrets redacted. */
export type TemporaryTableCredentials =
  | (CredentialsCommon & { cloud: 'aws'; accessKeyId: string; secretAccessKey: string; sessionToken: string; accessPoint?: string })
  | (CredentialsCommon & { cloud: 'azure'; sasToken: string })
  | (CredentialsCommon & { cloud: 'gcp'; oauthToken: string })

interface WireTable {
  full_name?: string
  catalog_name: string
  schema_name: string
  name: string
  table_id: string
  table_type: string
  data_source_format?: string
  storage_location?: string
  columns?: Array<{ name: string; type_name: string; type_text: string; position: number; nullable?: boolean; partition_index?: number; comment?: string }>
  properties?: Record<string, string>
}

interface WireTemporaryCredentials {
  aws_temp_credentials?: { access_key_id: string; secret_access_key: string; session_token: string; access_point?: string }
  azure_user_delegation_sas?: { sas_token: string }
  gcp_oauth_token?: { oauth_token: string }
  expiration_time?: number
  url?: string
}

/** Looks up `catalog.schema.table` (backquote a part that contains dots: catalog.schema.`my.table`). */
export async function getTable(api: DatabricksApi, fullName: string, signal?: AbortSignal): Promise<TableInfo> {
  const parts = splitFullName(fullName)
  const wire = await api.json<WireTable>({ method: 'GET', path: `/api/2.1/unity-catalog/tables/${encodeURIComponent(parts.join('.'))}`, signal })
  return {
    fullName: wire.full_name ?? `${wire.catalog_name}.${wire.schema_name}.${wire.name}`,
    catalogName: wire.catalog_name,
    schemaName: wire.schema_name,
    name: wire.name,
    tableId: wire.table_id,
    tableType: wire.table_type,
    dataSourceFormat: wire.data_source_format,
    storageLocation: wire.storage_location,
    columns: (wire.columns ?? []).map((column) => ({
      name: column.name,
      typeName: column.type_name,
      typeText: column.type_text,
      position: column.position,
      nullable: column.nullable ?? true,
      ...(column.partition_index === undefined ? {} : { partitionIndex: column.partition_index }),
      ...(column.comment === undefined ? {} : { comment: column.comment }),
    })),
    properties: wire.properties ?? {},
  }
}

/**
 * Short-lived credentials for the files of the table with this id. Needs the metastore's external
 * data access enabled and the EXTERNAL USE SCHEMA privilege on the table's schema.
 */
export async function temporaryTableCredentials(api: DatabricksApi, tableId: string, operation: TableOperation, signal?: AbortSignal): Promise<TemporaryTableCredentials> {
  if (operation !== 'READ' && operation !== 'READ_WRITE') {
    throw new SluiceError('CONFIG_INVALID', `Table operation "${String(operation)}" is not one of READ, READ_WRITE`, { fix: 'Ask for READ or READ_WRITE credentials.' })
  }
  const wire = await api.json<WireTemporaryCredentials>({
    method: 'POST',
    path: '/api/2.0/unity-catalog/temporary-table-credentials',
    body: { table_id: tableId, operation },
    signal,
    idempotent: true,
  })
  const common: CredentialsCommon = {
    expiresAt: new Date(wire.expiration_time ?? Date.now()),
    url: wire.url ?? '',
  }
  let credentials: TemporaryTableCredentials
  if (wire.aws_temp_credentials !== undefined) {
    const aws = wire.aws_temp_credentials
    credentials = {
      cloud: 'aws', ...common, accessKeyId: aws.access_key_id, secretAccessKey: aws.secret_access_key, sessionToken: aws.session_token,
      ...(aws.access_point === undefined ? {} : { accessPoint: aws.access_point }),
    }
  } else if (wire.azure_user_delegation_sas !== undefined) {
    credentials = { cloud: 'azure', ...common, sasToken: wire.azure_user_delegation_sas.sas_token }
  } else if (wire.gcp_oauth_token !== undefined) {
    credentials = { cloud: 'gcp', ...common, oauthToken: wire.gcp_oauth_token.oauth_token }
  } else {
    throw new SluiceError('DATABRICKS_API', `Unity Catalog vended credentials for table ${tableId} of a kind Sluice does not know (fields: ${Object.keys(wire).join(', ')})`, {
      fix: 'Read the table through a SQL warehouse instead; Sluice reads tables on AWS S3, Azure (user delegation SAS) and Google Cloud Storage.',
    })
  }
  return withRedactedPrinting(credentials)
}

function withRedactedPrinting(credentials: TemporaryTableCredentials): TemporaryTableCredentials {
  const visible = { cloud: credentials.cloud, url: credentials.url, expiresAt: credentials.expiresAt, secrets: '***' }
  Object.defineProperty(credentials, inspect.custom, { value: () => `TemporaryTableCredentials ${inspect(visible)}`, enumerable: false })
  return credentials
}

function splitFullName(fullName: string): string[] {
  const parts: string[] = []
  const pattern = /`((?:[^`]|``)+)`|([^.`]+)/gy
  let position = 0
  while (position < fullName.length) {
    pattern.lastIndex = position
    const match = pattern.exec(fullName)
    if (match === null) break
    parts.push(match[1] === undefined ? match[2]!.trim() : match[1].replaceAll('``', '`'))
    position = pattern.lastIndex
    if (position < fullName.length && fullName[position] !== '.') break
    position += 1
  }
  if (parts.length !== 3 || parts.some((part) => part === '') || position < fullName.length) {
    throw new SluiceError('CONFIG_INVALID', `"${fullName}" is not a Unity Catalog table name of the form catalog.schema.table`, {
      fix: 'Name the table with all three parts, e.g. main.sales.orders (backquote a part that contains a dot).',
    })
  }
  return parts
}
