/**
 * What the Databricks tests share: an emulator with a PAT and an OAuth client, a client on it, and
 * an `orders` table whose every row the test can compute on its own (so results are checked against
 * values the test derives, not against what Sluice returns elsewhere).
 */
import type { DatabaseSync } from 'node:sqlite'
import { DatabricksClient, type DatabricksLogger, type DatabricksOptions } from '../../src/databricks/index.ts'
import { startDatabricksEmulator, type DatabricksEmulator, type EmulatorOptions } from '../emulators/databricks/index.ts'

export const PAT = 'dapi0123456789abcdef0123456789abcdef'
export const CLIENT_ID = 'a1b2c3d4-0000-4000-8000-000000000001'
export const CLIENT_SECRET = 'doseSECRET9f8e7d6c5b4a39281706f5e4d3c2b1a0'
export const WAREHOUSE = 'emulator-warehouse'

export function startEmulator(options: EmulatorOptions = {}): Promise<DatabricksEmulator> {
  return startDatabricksEmulator({ personalAccessTokens: [PAT], oauthClients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }], ...options })
}

/** A client for the emulator with a PAT given through the environment, as a user would. */
export function patClient(emulator: DatabricksEmulator, options: DatabricksOptions = {}): Promise<DatabricksClient> {
  return DatabricksClient.connect({
    env: { DATABRICKS_HOST: emulator.host, DATABRICKS_TOKEN: PAT, DATABRICKS_CONFIG_FILE: '/nonexistent/databrickscfg' },
    retryBaseDelayMs: 20,
    ...options,
  })
}

/** Collects log lines. */
export function memoryLogger(): DatabricksLogger & { lines: string[] } {
  const lines: string[] = []
  return { lines, debug: (line) => lines.push(line), warn: (line) => lines.push(line) }
}

export interface ExpectedOrder {
  id: bigint
  qty: number
  small: number
  price: string
  ratio: number | null
  weight: number
  ok: boolean
  day: string
  at: Date
  name: string
  payload: Uint8Array
  tags: unknown[] | null
}

const BASE_TIME = Date.UTC(2024, 0, 15, 8, 30, 0, 0)
const BASE_DAY = 19_000

/** Row `i` of the orders table, with values that exercise every type's edge (bigints past 2^53, negative decimals, nulls). */
export function expectedOrder(i: number): ExpectedOrder {
  const cents = (i * 37) % 100
  return {
    id: i % 2 === 0 ? 2n ** 53n + BigInt(i) : BigInt(i),
    qty: i * 3 - 1000,
    small: (i % 600) - 300,
    price: `${i % 7 === 0 && i > 0 ? '-' : ''}${Math.floor(i / 3)}.${String(cents).padStart(2, '0')}`,
    ratio: i % 11 === 0 ? null : i / 8,
    weight: (i % 1000) / 4,
    ok: i % 3 === 0,
    day: new Date((BASE_DAY + (i % 1000)) * 86_400_000).toISOString().slice(0, 10),
    at: new Date(BASE_TIME + i * 1_000_123),
    name: `order-${i}-Zoë ☕`,
    payload: new Uint8Array([i & 255, (i >> 8) & 255, 0]),
    tags: i % 13 === 0 ? null : [`a${i}`, i],
  }
}

/** Creates and fills `orders` with `count` rows through SQLite directly. */
export function createOrders(db: DatabaseSync, count: number): void {
  db.exec(`CREATE TABLE orders (id BIGINT, qty INT, small SMALLINT, price DECIMAL(12,2), ratio DOUBLE, weight FLOAT,
    ok BOOLEAN, day DATE, at TIMESTAMP, name STRING, payload BINARY, tags ARRAY)`)
  const insert = db.prepare('INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
  db.exec('BEGIN')
  for (let i = 0; i < count; i++) {
    const row = expectedOrder(i)
    insert.run(row.id, row.qty, row.small, row.price, row.ratio, row.weight, row.ok ? 1 : 0, row.day, row.at.toISOString(), row.name, row.payload,
      row.tags === null ? null : JSON.stringify(row.tags))
  }
  db.exec('COMMIT')
}
