/**
 * The benchmarks' Delta table: `rows` rows of 10 mixed columns (long, int, double, float, string,
 * low-cardinality string, decimal(18,4), timestamp, date, boolean), written by delta-rs (Python
 * `deltalake`) in 5 appends (snappy parquet). Written once and cached under the Sluice cache
 * folder, keyed by the generating script and the row count.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, rm, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { deltaRsEnv } from '../../scripts/lib/delta-writers.ts'

const WRITE_SCRIPT = `
import sys
import pyarrow as pa, pyarrow.compute as pc
from deltalake import write_deltalake
path, rows = sys.argv[1], int(sys.argv[2])
chunk = rows // 5
categories = pa.array(["alpha", "beta", "gamma", "delta", "epsilon"])
for part in range(5):
    start = part * chunk
    ids = pa.array(range(start, start + chunk), pa.int64())
    table = pa.table({
        "id": ids,
        "qty": pc.cast(pc.bit_wise_and(ids, 0xFFFF), pa.int32()),
        "price": pc.multiply(pc.cast(ids, pa.float64()), 0.37),
        "ratio": pc.cast(pc.divide(pc.cast(pc.bit_wise_and(ids, 1023), pa.float64()), 7.0), pa.float32()),
        "name": pc.binary_join_element_wise("user-", pc.cast(ids, pa.string()), ""),
        "category": pc.take(categories, pc.bit_wise_and(ids, 3)),
        "amount": pc.cast(pc.cast(pc.multiply(ids, 37), pa.decimal128(38, 4)), pa.decimal128(18, 4), safe=False),
        "ts": pc.cast(pc.add(pc.multiply(ids, 1_000_003), 1_700_000_000_000_000), pa.timestamp("us", tz="UTC")),
        "day": pc.cast(pc.cast(pc.add(pc.bit_wise_and(ids, 4095), 19000), pa.int32()), pa.date32()),
        "active": pc.equal(pc.bit_wise_and(ids, 1), 0),
    })
    write_deltalake(path, table, mode="append")
import os
os._exit(0)  # see PEER_SCRIPT: skip the interpreter teardown that can abort
`

export interface BenchTable {
  path: string
  /** Bytes of the table's data files on disk (compressed parquet). */
  bytes: number
}

export async function mixedColumnTable(rows: number, progress: (line: string) => void): Promise<BenchTable> {
  const digest = createHash('sha256').update(WRITE_SCRIPT).digest('hex').slice(0, 12)
  const path = join(process.env.SLUICE_HOME ?? join(homedir(), '.cache', 'sluice'), 'bench', `delta-scan-${rows}-${digest}`)
  if (!existsSync(join(path, '.complete'))) {
    progress(`writing a ${rows.toLocaleString('en')}-row table with delta-rs into ${path} (once)`)
    await rm(path, { recursive: true, force: true })
    await (await deltaRsEnv()).runScript(WRITE_SCRIPT, [path, String(rows)], { timeoutMs: 20 * 60_000 })
    await writeFile(join(path, '.complete'), new Date().toISOString())
  }
  return { path, bytes: await dataBytes(path) }
}

async function dataBytes(dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { recursive: true })) {
    if (entry.endsWith('.parquet') && !entry.startsWith('_delta_log')) total += (await stat(join(dir, entry))).size
  }
  return total
}
