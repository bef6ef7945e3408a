/**
 * A Unity Catalog table as the Delta kernel reads it: `catalog.schema.table` resolved to its
 * storage location, and storage options whose credentials Unity Catalog vends (temporary table
 * credentials, READ) and that are renewed before they expire. Needs the EXTERNAL USE SCHEMA
 * privilege on the table's schema, as every engine reading Unity Catalog tables from outside does.
 */
import type { DatabricksClient, TemporaryTableCredentials } from '../databricks/index.ts'
import type { StorageOptions } from '../delta/index.ts'
import { SluiceError } from '../errors.ts'

/** `catalog.schema.table` (parts may be backquoted); anything with `/` or `:` is a path or URI. */
export function isUnityCatalogName(table: string): boolean {
  return !/[/:\\]/.test(table) && table.split('.').length === 3
}

export async function unityCatalogTable(client: DatabricksClient, fullName: string, storage: StorageOptions = {}): Promise<{ uri: string; storage: StorageOptions }> {
  const table = await client.getTable(fullName)
  if (table.storageLocation === undefined || (table.dataSourceFormat ?? '').toUpperCase() !== 'DELTA') {
    throw new SluiceError('SOURCE_FAILED', `Unity Catalog table ${fullName} is a ${table.tableType} of format ${table.dataSourceFormat ?? 'none'}, not a Delta table Sluice can read from storage`, {
      fix: 'Read views and non-Delta tables through a SQL warehouse (the sql source), or point the source at a Delta table.',
    })
  }
  const vend = async () => storageCredentials(await client.temporaryTableCredentials(table.tableId, 'READ'))
  return { uri: table.storageLocation, storage: { ...storage, credentials: await vend(), refreshCredentials: vend } }
}

/** Unity Catalog's credentials in the shape each cloud store takes (see src/delta/storage). */
function storageCredentials(vended: TemporaryTableCredentials): Record<string, unknown> {
  switch (vended.cloud) {
    case 'aws':
      return { accessKeyId: vended.accessKeyId, secretAccessKey: vended.secretAccessKey, sessionToken: vended.sessionToken, expiresAt: vended.expiresAt }
    case 'azure':
      return { sasToken: vended.sasToken, expiresAt: vended.expiresAt }
    case 'gcp':
      return { accessToken: vended.oauthToken, expiresAt: vended.expiresAt }
  }
}
