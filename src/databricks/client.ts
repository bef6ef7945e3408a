/**
 * A Databricks workspace: SQL statements on a warehouse and Unity Catalog tables, authenticated
 * by the Databricks conventions. Create one with `DatabricksClient.connect(options?)`.
 */
import { inspect } from 'node:util'
import { DatabricksApi } from './api.ts'
import { resolveDatabricksConfig, type DatabricksConfig, type DatabricksOptions } from './config.ts'
import type { StatementResult } from './statement-result.ts'
import { cancelStatement, executeStatement, type ExecuteStatementOptions } from './statements.ts'
import { getTable, temporaryTableCredentials, type TableInfo, type TableOperation, type TemporaryTableCredentials } from './unity-catalog.ts'

export class DatabricksClient {
  readonly config: DatabricksConfig
  readonly #api: DatabricksApi

  constructor(config: DatabricksConfig) {
    this.config = config
    this.#api = new DatabricksApi(config)
  }

  /** Resolves host and credentials from the options, the DATABRICKS_* environment and ~/.databrickscfg. */
  static async connect(options: DatabricksOptions = {}): Promise<DatabricksClient> {
    return new DatabricksClient(await resolveDatabricksConfig(options))
  }

  /**
   * Runs `sql` on a SQL warehouse and resolves once it SUCCEEDED (FAILED → DATABRICKS_SQL error).
   * Iterate the result for typed rows, or `recordBatches()` for Arrow. Aborting `signal` cancels it.
   */
  executeStatement(sql: string, options: ExecuteStatementOptions): Promise<StatementResult> {
    return executeStatement(this.#api, sql, options)
  }

  /** Asks the warehouse to cancel a statement by id. */
  cancelStatement(statementId: string): Promise<void> {
    return cancelStatement(this.#api, statementId)
  }

  /** A Unity Catalog table by its three-part name: storage location, id, format, columns. */
  getTable(fullName: string, signal?: AbortSignal): Promise<TableInfo> {
    return getTable(this.#api, fullName, signal)
  }

  /** Short-lived cloud credentials for a table's files (AWS, Azure or GCP), with their expiry. */
  temporaryTableCredentials(tableId: string, operation: TableOperation = 'READ', signal?: AbortSignal): Promise<TemporaryTableCredentials> {
    return temporaryTableCredentials(this.#api, tableId, operation, signal)
  }

  [inspect.custom](): string {
    return `DatabricksClient { config: ${inspect(this.config)} }`
  }
}
