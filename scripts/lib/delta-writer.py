"""An independent Delta writer for the source connector's tests and the demo: delta-rs (Python `deltalake`).

Usage: python delta-writer.py TABLE STEP [ARG]
  create N         a table of N orders (id, customer, name, amount, updated) with the change data feed on
  append FIRST N   rows FIRST .. FIRST+N-1
  update MOD       amount += 1000 for rows whose id % MOD == 0
  delete MOD       deletes rows whose id % MOD == 1
  merge FIRST N    upserts ids FIRST .. FIRST+N-1 (updates existing ones, inserts the rest)
  evolve FIRST N   appends rows FIRST .. FIRST+N-1 with a new nullable column `note` (schema evolution)
  cdf              prints the table's change feed from version 0 as JSON lines, in commit order
"""
import json
import sys

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

table_uri, step = sys.argv[1], sys.argv[2]
args = [int(arg) for arg in sys.argv[3:]]


CUSTOMERS = ["ada", "bob", "cy", "dee", "eve"]


def rows(first, count):
    ids = list(range(first, first + count))
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "customer": pa.array([CUSTOMERS[i % len(CUSTOMERS)] for i in ids], pa.string()),
        "name": pa.array([f"name-{i}" for i in ids], pa.string()),
        "amount": pa.array([float(i % 97) for i in ids], pa.float64()),
        "updated": pa.array([i * 1000 for i in ids], pa.int64()),
    })


if step == "create":
    write_deltalake(table_uri, rows(0, args[0]), mode="overwrite", configuration={"delta.enableChangeDataFeed": "true"})
elif step == "append":
    write_deltalake(table_uri, rows(args[0], args[1]), mode="append")
elif step == "update":
    DeltaTable(table_uri).update(predicate=f"id % {args[0]} = 0", updates={"amount": "amount + 1000"})
elif step == "delete":
    DeltaTable(table_uri).delete(predicate=f"id % {args[0]} = 1")
elif step == "merge":
    (
        DeltaTable(table_uri)
        .merge(source=rows(args[0], args[1]), predicate="t.id = s.id", source_alias="s", target_alias="t")
        .when_matched_update(updates={"name": "concat(s.name, '-merged')", "amount": "s.amount + 0.5"})
        .when_not_matched_insert_all()
        .execute()
    )
elif step == "evolve":
    table = rows(args[0], args[1])
    table = table.append_column("note", pa.array([f"note-{i}" for i in range(args[0], args[0] + args[1])], pa.string()))
    write_deltalake(table_uri, table, mode="append", schema_mode="merge")
elif step == "cdf":
    changes = pa.table(DeltaTable(table_uri).load_cdf(starting_version=0).read_all()).to_pylist()
    changes.sort(key=lambda row: row["_commit_version"])  # stable: keeps each commit's own order
    for row in changes:
        row.pop("_commit_timestamp", None)
        print(json.dumps(row))
else:
    raise SystemExit(f"unknown step {step}")
