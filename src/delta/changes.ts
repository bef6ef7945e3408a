/**
 * The change data feed (protocol "Add CDC File" reader requirements): what changed in each commit,
 * as rows with `_change_type` (insert, update_preimage, update_postimage, delete), `_commit_version`
 * and `_commit_timestamp`.
 *
 * A commit with `cdc` actions is read from its change data files only. A commit without them is
 * read from its data-changing `add` (inserts) and `remove` (deletes) actions; a file removed and
 * re-added in the same commit with a new deletion vector yields the rows the new vector deletes
 * (deletes) and, should it delete fewer, the rows it restores (inserts).
 *
 * Order within a commit is deterministic: the commit's actions in log order, each file's rows in
 * file order; a removed-and-re-added file takes the place of its remove.
 */
import { SluiceError } from '../errors.ts'
import type { Action, AddFile, DeletionVectorDescriptor, Metadata, Protocol, RemoveFile } from './log/actions.ts'
import { timestampOf } from './log/history.ts'
import { readCommit } from './log/replay.ts'
import type { CommitFile } from './log/segment.ts'
import { checkReadable } from './protocol.ts'
import { DeletedRows, loadDeletionVector, relativeDvPath } from './read/deletion-vectors.ts'
import { readFileRows, type ColumnPlan, type FileToRead } from './read/file-reader.ts'
import { tablePath } from './read/table-path.ts'
import { formatMicros, type DeltaRow } from './read/values.ts'
import { columnMappingMode, parseSchema, type StructField } from './schema.ts'
import { columnPlan } from './snapshot.ts'
import type { ObjectStore } from './storage/object-store.ts'

export type ChangeType = 'insert' | 'update_preimage' | 'update_postimage' | 'delete'

/** A changed row: the table's columns and the three change columns. */
export type ChangeRow = DeltaRow & { _change_type: ChangeType; _commit_version: bigint; _commit_timestamp: string }

/** A batch of one commit's changes; `startIndex` is the index within the commit of its first row. */
export interface ChangeBatch {
  readonly version: number
  /** The commit's timestamp, milliseconds since the epoch. */
  readonly timestamp: number
  readonly startIndex: number
  readonly rows: readonly ChangeRow[]
}

const CHANGE_TYPE_FIELD: StructField = { name: '_change_type', type: { type: 'string' }, nullable: false, metadata: {} }

export interface CommitContext {
  readonly store: ObjectStore
  readonly commit: CommitFile
  /** Protocol and metadata in effect before this commit (a commit may change them). */
  readonly protocol: Protocol
  readonly metadata: Metadata
  /**
   * The live file `path` had before this commit: the protocol lets a remove omit partition values
   * and size, which then come from the file's add.
   */
  readonly fileBefore: (path: string) => Promise<AddFile | undefined>
}

/**
 * Reads one commit's changes in batches; returns the protocol and metadata in effect after it.
 * Throws DELTA_CDF_UNAVAILABLE when the change data feed is off at this commit, and
 * DELTA_FILE_VACUUMED when a file it needs is gone.
 */
export async function* commitChanges(context: CommitContext, columns?: readonly string[]): AsyncGenerator<ChangeBatch, { protocol: Protocol; metadata: Metadata }> {
  const { store, commit } = context
  let actions: Action[]
  try {
    actions = await readCommit(store, commit.file.path)
  } catch (error) {
    const gone = error instanceof SluiceError && error.code === 'DELTA_STORAGE' && (await store.head(commit.file.path).then(() => false, () => true))
    if (gone) {
      throw new SluiceError('DELTA_VERSION_NOT_FOUND', `commit ${commit.version} of the table at ${store.root} is gone from _delta_log/`, {
        fix: 'The log was cleaned up past this version (delta.logRetentionDuration); restart the change feed from a newer version.',
        cause: error,
      })
    }
    throw error
  }
  const protocol = actions.find((a) => a.protocol !== undefined)?.protocol ?? context.protocol
  const metadata = actions.find((a) => a.metaData !== undefined)?.metaData ?? context.metadata
  checkReadable(protocol, store.root)
  if (metadata.configuration['delta.enableChangeDataFeed'] !== 'true') {
    throw new SluiceError('DELTA_CDF_UNAVAILABLE', `the change data feed was off at version ${commit.version} of the table at ${store.root} (delta.enableChangeDataFeed is not true)`, {
      fix: 'Read changes only from versions after the feed was enabled (ALTER TABLE ... SET TBLPROPERTIES (delta.enableChangeDataFeed = true)), or take a snapshot instead.',
    })
  }
  const inCommit = actions.find((a) => a.commitInfo !== undefined)?.commitInfo?.inCommitTimestamp
  const timestamp = timestampOf(inCommit, commit)
  const schema = parseSchema(metadata.schemaString)
  const mode = columnMappingMode(metadata.configuration)
  const plan = columnPlan(schema, metadata.partitionColumns, mode, columns)
  const commitColumns = { _commit_version: BigInt(commit.version), _commit_timestamp: `${formatMicros(BigInt(timestamp) * 1000n)}Z` }
  let index = 0
  const emit = (rows: DeltaRow[], changeType?: ChangeType): ChangeBatch => {
    const batch = { version: commit.version, timestamp, startIndex: index, rows: rows.map((row) => ({ ...row, ...(changeType === undefined ? {} : { _change_type: changeType }), ...commitColumns }) as ChangeRow) }
    index += rows.length
    return batch
  }

  const cdcFiles = actions.flatMap((a) => (a.cdc === undefined ? [] : [a.cdc]))
  if (cdcFiles.length > 0) {
    const cdcPlan: ColumnPlan = { mode, columns: [...plan.columns, { field: CHANGE_TYPE_FIELD, partition: false }] }
    for (const cdc of cdcFiles) {
      for await (const rows of readOrVacuumed(store, { path: cdc.path, size: cdc.size, partitionValues: cdc.partitionValues }, cdcPlan, commit.version)) {
        if (rows.length > 0) yield emit(rows)
      }
    }
    return { protocol, metadata }
  }

  const adds = new Map<string, AddFile>()
  const removed = new Set<string>()
  for (const action of actions) {
    if (action.add?.dataChange === true) adds.set(action.add.path, action.add)
    if (action.remove?.dataChange === true) removed.add(action.remove.path)
  }
  for (const action of actions) {
    const remove = action.remove
    if (remove?.dataChange === true) {
      const readded = adds.get(remove.path)
      if (readded !== undefined) {
        yield* deletionVectorChange(store, remove, readded, plan, commit.version, emit)
      } else {
        const deleted = await dvOrVacuumed(store, remove.deletionVector, commit.version)
        const added = remove.partitionValues === undefined && metadata.partitionColumns.length > 0 ? await context.fileBefore(remove.path) : undefined
        const partitionValues = remove.partitionValues ?? added?.partitionValues ?? {}
        const file: FileToRead = { path: remove.path, size: remove.size ?? added?.size, partitionValues, ...(deleted === undefined ? {} : { deleted }) }
        for await (const rows of readOrVacuumed(store, file, plan, commit.version)) if (rows.length > 0) yield emit(rows, 'delete')
      }
    }
    const add = action.add
    // A file also removed in this commit was handled with its remove (a deletion vector change).
    if (add?.dataChange === true && !removed.has(add.path)) {
      const deleted = await dvOrVacuumed(store, add.deletionVector, commit.version)
      const file: FileToRead = { path: add.path, size: add.size, partitionValues: add.partitionValues, ...(deleted === undefined ? {} : { deleted }) }
      for await (const rows of readOrVacuumed(store, file, plan, commit.version)) if (rows.length > 0) yield emit(rows, 'insert')
    }
  }
  return { protocol, metadata }
}

/** A file whose deletion vector changed: newly deleted rows are deletes, newly restored rows inserts. */
async function* deletionVectorChange(
  store: ObjectStore,
  remove: RemoveFile,
  add: AddFile,
  plan: ColumnPlan,
  version: number,
  emit: (rows: DeltaRow[], changeType: ChangeType) => ChangeBatch,
): AsyncGenerator<ChangeBatch> {
  const before = (await dvOrVacuumed(store, remove.deletionVector, version)) ?? new DeletedRows([])
  const after = (await dvOrVacuumed(store, add.deletionVector, version)) ?? new DeletedRows([])
  const newlyDeleted = new DeletedRows([...after.indexes()].filter((row) => !before.has(row)))
  const restored = new DeletedRows([...before.indexes()].filter((row) => !after.has(row)))
  if (newlyDeleted.cardinality > 0) {
    for await (const rows of readOrVacuumed(store, { path: add.path, size: add.size, partitionValues: add.partitionValues, only: newlyDeleted }, plan, version)) {
      if (rows.length > 0) yield emit(rows, 'delete')
    }
  }
  if (restored.cardinality > 0) {
    for await (const rows of readOrVacuumed(store, { path: add.path, size: add.size, partitionValues: add.partitionValues, only: restored }, plan, version)) {
      if (rows.length > 0) yield emit(rows, 'insert')
    }
  }
}

async function dvOrVacuumed(store: ObjectStore, descriptor: DeletionVectorDescriptor | undefined, version: number): Promise<DeletedRows | undefined> {
  if (descriptor === undefined) return undefined
  try {
    return await loadDeletionVector(store, descriptor)
  } catch (error) {
    const path = descriptor.storageType === 'u' ? relativeDvPath(descriptor.pathOrInlineDv) : tablePath(store, descriptor.pathOrInlineDv, 'a deletion vector')
    throw await vacuumedOr(store, error, version, path)
  }
}

async function* readOrVacuumed(store: ObjectStore, file: FileToRead, plan: ColumnPlan, version: number): AsyncGenerator<DeltaRow[]> {
  try {
    yield* readFileRows(store, file, plan)
  } catch (error) {
    throw await vacuumedOr(store, error, version, file.path)
  }
}

/** DELTA_FILE_VACUUMED when a storage error came from a file that is gone, else the error itself. */
async function vacuumedOr(store: ObjectStore, error: unknown, version: number, path: string): Promise<unknown> {
  if (!(error instanceof SluiceError) || error.code !== 'DELTA_STORAGE') return error
  const gone = await store.head(path).then(
    () => false,
    () => true,
  )
  if (!gone) return error
  return new SluiceError('DELTA_FILE_VACUUMED', `the change feed of version ${version} needs ${path}, which is gone from ${store.root} (vacuumed)`, {
    fix: 'Changes this old can no longer be read; restart the feed from a newer version, or keep files longer (delta.deletedFileRetentionDuration).',
    cause: error,
  })
}
