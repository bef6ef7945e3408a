/**
 * delta-scan: how fast Sluice reads a whole Delta table snapshot (log replay, parquet decoding,
 * conversion to rows with exact values), against delta-rs reading the same table in the same run.
 *
 * - The table: 5,000,000 rows (`--quick`: 500,000) of 10 mixed columns (long, int, double, float,
 *   string, low-cardinality string, decimal(18,4), timestamp, date, boolean), written by delta-rs
 *   (Python `deltalake`) in 5 appends (snappy parquet). It is written once and cached under the
 *   Sluice cache folder, keyed by the generating script and the row count.
 * - The peer: delta-rs's own full scan, `DeltaTable(path).to_pyarrow_table()` (Arrow columns, in
 *   Rust, multi-threaded), timed in Python after one warm-up scan. For context, the same scan
 *   materialized as Python dicts (`.to_pylist()`): rows as objects, as Sluice hands them out.
 * - Sluice: `DeltaTable.open(path)` → `snapshot()` → `scan().batches()`, every row materialized as
 *   a JS object with the documented values (bigint longs, exact decimal strings, ISO timestamps),
 *   after one warm-up scan; then the same scan as column arrays (`columnBatches()`, no object per
 *   row). Row counts are checked against the table's.
 * - MB/s counts the data files' bytes on disk (compressed parquet), MB = 10^6 bytes.
 */
import { DeltaTable } from '../src/delta/index.ts'
import { deltaRsEnv } from '../scripts/lib/delta-writers.ts'
import { defineBenchmark } from './lib/benchmark.ts'
import { mixedColumnTable } from './lib/delta-table.ts'
import { now } from './lib/timing.ts'


const PEER_SCRIPT = `
import os, sys, time, json
from deltalake import DeltaTable
path = sys.argv[1]
DeltaTable(path).to_pyarrow_table()
start = time.perf_counter()
table = DeltaTable(path).to_pyarrow_table()
seconds = time.perf_counter() - start
# Context: the same scan materialized as Python row objects (what a row-at-a-time consumer gets).
start = time.perf_counter()
rows = DeltaTable(path).to_pyarrow_table().to_pylist()
python_seconds = time.perf_counter() - start
print(json.dumps({"rows": table.num_rows, "seconds": seconds, "pythonRows": len(rows), "pythonSeconds": python_seconds}), flush=True)
# deltalake 1.6 with pyarrow can abort in interpreter teardown ("terminate called without an active
# exception"); the work is done and printed, so leave without the teardown.
os._exit(0)
`

/** A full scan as row objects (`batches()`) or as column arrays (`columnBatches()`). */
async function sluiceScan(path: string, form: 'rows' | 'columns'): Promise<{ rows: number; seconds: number }> {
  const started = now()
  const table = await DeltaTable.open(path)
  const scan = (await table.snapshot()).scan()
  let rows = 0
  if (form === 'rows') for await (const batch of scan.batches()) rows += batch.length
  else for await (const batch of scan.columnBatches()) rows += batch.length
  return { rows, seconds: (now() - started) / 1000 }
}

export default defineBenchmark({
  description: 'Delta snapshot scan: Sluice rows/s and MB/s vs delta-rs to_pyarrow_table on the same table',
  needsKafka: false,
  async run({ quick, report, progress }) {
    const rows = quick ? 500_000 : 5_000_000
    const python = await deltaRsEnv()
    const { path, bytes } = await mixedColumnTable(rows, progress)
    const setup = { rows, columns: 10, data_mb: Math.round(bytes / 1e4) / 100, files: 5, writer: 'delta-rs (deltalake 1.6.6)' }

    progress('delta-rs: warm-up and timed to_pyarrow_table()')
    const peer = JSON.parse(await python.runScript(PEER_SCRIPT, [path])) as { rows: number; seconds: number; pythonRows: number; pythonSeconds: number }
    if (peer.rows !== rows || peer.pythonRows !== rows) throw new Error(`delta-rs read ${peer.rows} (as Python objects ${peer.pythonRows}) rows, expected ${rows}`)

    progress('sluice: warm-up scan')
    await sluiceScan(path, 'rows')
    progress('sluice: timed scans (rows, then column batches)')
    const ours = await sluiceScan(path, 'rows')
    const columnar = await sluiceScan(path, 'columns')
    for (const scan of [ours, columnar]) if (scan.rows !== rows) throw new Error(`Sluice read ${scan.rows} rows, expected ${rows}`)

    const peerRows = report.limit('deltars_scan_rows_per_s', peer.rows / peer.seconds, 'rows/s', setup)
    const peerMb = report.limit('deltars_scan_mb_per_s', bytes / 1e6 / peer.seconds, 'MB/s', setup)
    report.compared('snapshot_scan_rows_per_s', ours.rows / ours.seconds, 'rows/s', peerRows, setup)
    report.compared('snapshot_scan_mb_per_s', bytes / 1e6 / ours.seconds, 'MB/s', peerMb, setup)
    report.compared('snapshot_column_scan_rows_per_s', columnar.rows / columnar.seconds, 'rows/s', peerRows, setup)
    const peerPython = report.limit('deltars_python_rows_per_s', peer.pythonRows / peer.pythonSeconds, 'rows/s', setup)
    report.compared('snapshot_scan_rows_vs_python_rows_per_s', ours.rows / ours.seconds, 'rows/s', peerPython, setup)
  },
})
