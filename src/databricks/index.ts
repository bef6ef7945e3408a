/**
 * Sluice's Databricks REST layer (knows nothing of Kafka): authentication by the Databricks
 * conventions (PAT, OAuth M2M, ~/.databrickscfg profiles), the SQL Statement Execution API with
 * INLINE JSON and EXTERNAL_LINKS Arrow results read chunk by chunk, and Unity Catalog table
 * lookup with temporary credential vending. Retries 429/503 with backoff honouring Retry-After.
 */
export { DatabricksClient } from './client.ts'
export { DatabricksConfig, resolveDatabricksConfig } from './config.ts'
export type { DatabricksAuthSettings, DatabricksLogger, DatabricksOptions } from './config.ts'
export type { ResultColumn, Row, SqlValue } from './sql-types.ts'
export { StatementResult } from './statement-result.ts'
export type { ExecuteStatementOptions, StatementParameter } from './statements.ts'
export type { TableColumn, TableInfo, TableOperation, TemporaryTableCredentials } from './unity-catalog.ts'
