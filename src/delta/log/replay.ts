/**
 * Log replay (protocol "Action Reconciliation"): the state of a version from its checkpoint (classic,
 * multi-part, or v2 with sidecars) and the commits after it. A file is identified by its path and
 * its deletion vector's unique id, so a commit that replaces a file's deletion vector removes the old
 * logical file and adds the new one.
 */
import { SluiceError } from '../../errors.ts'
import { ParquetFile } from '../read/parquet-file.ts'
import { tablePath } from '../read/table-path.ts'
import type { ObjectStore } from '../storage/object-store.ts'
import { normalizeAction, parseCommit, type Action, type AddFile, type DeletionVectorDescriptor, type Metadata, type Protocol, type Transaction } from './actions.ts'
import { LOG_DIR, type CheckpointFiles, type LogSegment } from './segment.ts'

export interface TableState {
  readonly version: number
  readonly protocol: Protocol
  readonly metadata: Metadata
  /** The table's live files, in a stable order (by path, then deletion vector id). */
  readonly files: readonly AddFile[]
  /** The latest transaction version of each application id (`txn` actions). */
  readonly transactions: ReadonlyMap<string, Transaction>
}

/** The deletion vector's unique id (protocol "Derived Fields"); empty for a file without one. */
export function deletionVectorId(dv: DeletionVectorDescriptor | undefined): string {
  if (dv === undefined) return ''
  return dv.offset === undefined ? `${dv.storageType}${dv.pathOrInlineDv}` : `${dv.storageType}${dv.pathOrInlineDv}@${dv.offset}`
}

export function fileKey(path: string, dv: DeletionVectorDescriptor | undefined): string {
  return `${path}\u0000${deletionVectorId(dv)}`
}

export async function replay(store: ObjectStore, segment: LogSegment): Promise<TableState> {
  const files = new Map<string, AddFile>()
  const transactions = new Map<string, Transaction>()
  let protocol: Protocol | undefined
  let metadata: Metadata | undefined
  const apply = (action: Action): void => {
    if (action.add !== undefined) files.set(fileKey(action.add.path, action.add.deletionVector), action.add)
    else if (action.remove !== undefined) files.delete(fileKey(action.remove.path, action.remove.deletionVector))
    else if (action.protocol !== undefined) protocol = action.protocol
    else if (action.metaData !== undefined) metadata = action.metaData
    else if (action.txn !== undefined) transactions.set(action.txn.appId, action.txn)
  }
  if (segment.checkpoint !== undefined) {
    // A checkpoint's removes are tombstones of files already gone; only its adds are live files.
    await readCheckpoint(store, segment.checkpoint, (action) => {
      if (action.remove === undefined) apply(action)
    })
  }
  for await (const actions of readCommitsAhead(store, segment.commits.map((commit) => commit.file.path))) {
    for (const action of actions) apply(action)
  }
  if (protocol === undefined || metadata === undefined) {
    throw new SluiceError('DELTA_PROTOCOL', `version ${segment.version} of the table at ${store.root} has no ${protocol === undefined ? 'protocol' : 'metaData'} action`, {
      fix: 'The table log is incomplete or corrupt; check the first commit and the checkpoints in _delta_log/.',
    })
  }
  const ordered = [...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, add]) => add)
  return { version: segment.version, protocol, metadata, files: ordered, transactions }
}

/** Commits read a few at a time ahead of their use (object stores answer slowly, not narrowly), yielded in order. */
export async function* readCommitsAhead(store: ObjectStore, paths: readonly string[], ahead = 8): AsyncGenerator<Action[]> {
  const pending: Promise<Action[]>[] = []
  let next = 0
  const refill = (): void => {
    while (pending.length < ahead && next < paths.length) {
      const read = readCommit(store, paths[next++]!)
      read.catch(() => undefined) // surfaced when its turn comes
      pending.push(read)
    }
  }
  refill()
  while (pending.length > 0) {
    const actions = await pending.shift()!
    refill()
    yield actions
  }
}

export async function readCommit(store: ObjectStore, path: string): Promise<Action[]> {
  const bytes = await store.read(path)
  return parseCommit(new TextDecoder().decode(bytes), path)
}

const CHECKPOINT_COLUMNS = ['add', 'remove', 'metaData', 'protocol', 'txn', 'sidecar', 'checkpointMetadata']

/** Calls `visit` with every action of a checkpoint, sidecars included. */
export async function readCheckpoint(store: ObjectStore, checkpoint: CheckpointFiles, visit: (action: Action) => void): Promise<void> {
  const sidecars: string[] = []
  const collect = (action: Action): void => {
    if (action.sidecar !== undefined) sidecars.push(action.sidecar.path)
    else visit(action)
  }
  for (const file of checkpoint.files) {
    if (file.path.endsWith('.json')) {
      for (const action of await readCommit(store, file.path)) collect(action)
    } else {
      await readParquetActions(store, file.path, file.size, collect)
    }
  }
  for (const sidecar of sidecars) {
    // Sidecar paths are relative to _delta_log/_sidecars/, or absolute URIs (then under the table root).
    const path = /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(sidecar) ? tablePath(store, sidecar, `checkpoint ${checkpoint.version}'s sidecar`) : `${LOG_DIR}_sidecars/${sidecar}`
    await readParquetActions(store, path, undefined, visit)
  }
}

async function readParquetActions(store: ObjectStore, path: string, size: number | undefined, visit: (action: Action) => void): Promise<void> {
  const file = await ParquetFile.open(store, path, size)
  const present = new Set(file.topLevelColumns())
  const columns = CHECKPOINT_COLUMNS.filter((column) => present.has(column))
  for (const range of file.rowGroups()) {
    const values = await file.readColumns(columns, range)
    for (let row = 0; row < range.rowEnd - range.rowStart; row++) {
      const action = normalizeAction(Object.fromEntries(columns.map((column, i) => [column, values[i]![row]])))
      if (action !== undefined) visit(action)
    }
  }
}
