/**
 * A Delta table: its versions, snapshots (time travel by version or timestamp) and change feed.
 */
import { SluiceError } from '../errors.ts'
import { commitChanges, type ChangeBatch, type ChangeRow } from './changes.ts'
import type { AddFile, Metadata, Protocol } from './log/actions.ts'
import { commitTimestamps } from './log/history.ts'
import { replay } from './log/replay.ts'
import { lastCheckpointVersion, listLog, segmentFor, type CommitFile, type LogListing } from './log/segment.ts'
import { checkReadable } from './protocol.ts'
import { Snapshot } from './snapshot.ts'
import { storeForUri, type StorageOptions } from './storage/index.ts'
import type { ObjectStore } from './storage/object-store.ts'

export interface OpenOptions {
  /** Options for the store of the URI's scheme (credentials, endpoint, region, ...). */
  storage?: StorageOptions
}

export interface SnapshotOptions {
  /** The version to read; the latest when neither this nor `timestamp` is given. */
  version?: number
  /** The latest version committed at or before this time (a Date, epoch milliseconds, or an ISO string). */
  timestamp?: Date | number | string
}

export interface ChangesOptions {
  /** First version whose changes are returned (inclusive). */
  fromVersion: number
  /** Last version (inclusive); the latest when absent. */
  toVersion?: number
  /** Table columns to return (the change columns always come); all when absent. */
  columns?: readonly string[]
}

export interface ChangesSinceOptions {
  /** Skip the first `startIndex` rows of the first version (resume inside a version). */
  startIndex?: number
  columns?: readonly string[]
}

export class DeltaTable {
  readonly store: ObjectStore
  /**
   * Protocol and metadata in effect after the last commit the change feed read: a poller asking
   * for the next version continues from here instead of replaying the log (checkpoint included).
   */
  private feedState: { nextVersion: number; protocol: Protocol; metadata: Metadata } | undefined

  private constructor(store: ObjectStore) {
    this.store = store
  }

  /** Opens the table at a location (folder, `file://`, `s3://`, `s3a://`, `abfss://`, `gs://`) or in a store. */
  static async open(location: string | ObjectStore, options: OpenOptions = {}): Promise<DeltaTable> {
    const store = typeof location === 'string' ? await storeForUri(location, options.storage) : location
    const table = new DeltaTable(store)
    await table.latestVersion() // fails early with DELTA_TABLE_NOT_FOUND
    return table
  }

  /** The newest committed version. */
  async latestVersion(): Promise<number> {
    const listing = await this.listFromHint()
    return segmentFor(this.store, listing).version
  }

  async snapshot(options: SnapshotOptions = {}): Promise<Snapshot> {
    let version = options.version
    if (options.timestamp !== undefined) {
      if (version !== undefined) throw new SluiceError('CONFIG_INVALID', 'a snapshot takes a version or a timestamp, not both', { fix: 'Pass only one of version and timestamp.' })
      version = await this.versionAt(options.timestamp)
    }
    const hint = await lastCheckpointVersion(this.store)
    const listing = hint !== undefined && (version === undefined || version >= hint) ? await this.listFrom(hint) : await listLog(this.store)
    const state = await replay(this.store, segmentFor(this.store, listing, version))
    checkReadable(state.protocol, this.store.root)
    return new Snapshot(this.store, state)
  }

  /** The latest version committed at or before `timestamp`. */
  async versionAt(timestamp: Date | number | string): Promise<number> {
    const at = timestamp instanceof Date ? timestamp.getTime() : typeof timestamp === 'number' ? timestamp : Date.parse(timestamp)
    if (Number.isNaN(at)) throw new SluiceError('CONFIG_INVALID', `"${String(timestamp)}" is not a timestamp`, { fix: 'Pass a Date, epoch milliseconds, or an ISO 8601 string.' })
    const listing = await listLog(this.store)
    const latest = await this.snapshot()
    const inCommit = latest.properties['delta.enableInCommitTimestamps'] === 'true'
    const timestamps = await commitTimestamps(this.store, contiguousTail(listing.commits), inCommit)
    const found = timestamps.filter((entry) => entry.timestamp <= at).at(-1)
    if (found === undefined) {
      const earliest = timestamps[0]
      throw new SluiceError('DELTA_VERSION_NOT_FOUND', `no version of the table at ${this.store.root} was committed at or before ${new Date(at).toISOString()}${earliest === undefined ? '' : ` (the earliest kept, ${earliest.version}, is from ${new Date(earliest.timestamp).toISOString()})`}`, {
        fix: 'Ask for a later timestamp, or a version.',
      })
    }
    return found.version
  }

  /** Every change of versions `[fromVersion, toVersion]`, as rows. */
  async *changes(options: ChangesOptions): AsyncGenerator<ChangeRow> {
    for await (const batch of this.changeBatches(options)) yield* batch.rows
  }

  /** Every change of versions `[fromVersion, toVersion]`, in batches that carry their version and row index. */
  async *changeBatches(options: ChangesOptions): AsyncGenerator<ChangeBatch> {
    const latest = await this.latestVersion()
    const to = options.toVersion ?? latest
    if (options.fromVersion < 0 || to > latest || options.fromVersion > to) {
      throw new SluiceError('DELTA_VERSION_NOT_FOUND', `changes of versions ${options.fromVersion} to ${to} were asked for, but the table at ${this.store.root} has versions up to ${latest}`, {
        fix: `Ask for a range within 0..${latest} with fromVersion <= toVersion.`,
      })
    }
    yield* this.readChanges(options.fromVersion, to, 0, options.columns)
  }

  /**
   * The changes from `version` (index `startIndex` within it) to the latest version now, commit by
   * commit; ends when caught up, so a poller calls it again with the next offset. Each batch's rows
   * have offsets (batch.version, batch.startIndex + i).
   */
  async *changesSince(version: number, options: ChangesSinceOptions = {}): AsyncGenerator<ChangeBatch> {
    const latest = await this.latestVersion()
    if (version > latest) return
    yield* this.readChanges(version, latest, options.startIndex ?? 0, options.columns)
  }

  private async *readChanges(from: number, to: number, startIndex: number, columns?: readonly string[]): AsyncGenerator<ChangeBatch> {
    const listing = await listLog(this.store, from)
    const commits = listing.commits.filter((commit) => commit.version >= from && commit.version <= to)
    if (commits[0]?.version !== from || commits.length !== to - from + 1) {
      throw new SluiceError('DELTA_VERSION_NOT_FOUND', `the commits of versions ${from} to ${to} are not all in ${this.store.root}/_delta_log/`, {
        fix: 'The log was cleaned up past this version (delta.logRetentionDuration); read changes from a newer version.',
      })
    }
    let { protocol, metadata } = await this.stateBefore(from)
    for (const commit of commits) {
      const skip = commit.version === from ? startIndex : 0
      let before: Promise<Map<string, AddFile>> | undefined // built once per commit, only if a remove needs it
      const fileBefore = async (path: string): Promise<AddFile | undefined> => {
        before ??= this.snapshot({ version: commit.version - 1 }).then((snapshot) => new Map(snapshot.files.map((file) => [file.path, file])))
        return (await before).get(path)
      }
      const reader = commitChanges({ store: this.store, commit, protocol, metadata, fileBefore }, columns)
      for (;;) {
        const next = await reader.next()
        if (next.done === true) {
          ;({ protocol, metadata } = next.value)
          this.feedState = { nextVersion: commit.version + 1, protocol, metadata }
          break
        }
        const batch = next.value
        if (batch.startIndex + batch.rows.length <= skip) continue
        yield batch.startIndex >= skip ? batch : { ...batch, startIndex: skip, rows: batch.rows.slice(skip - batch.startIndex) }
      }
    }
  }

  /** Protocol and metadata in effect before `version` (for version 0, those of version 0 itself). */
  private async stateBefore(version: number): Promise<{ protocol: Protocol; metadata: Metadata }> {
    if (this.feedState?.nextVersion === version) return this.feedState
    const snapshot = await this.snapshot({ version: Math.max(0, version - 1) })
    return { protocol: snapshot.protocol, metadata: snapshot.metadata }
  }

  private async listFromHint(): Promise<LogListing> {
    const hint = await lastCheckpointVersion(this.store)
    return hint === undefined ? listLog(this.store) : this.listFrom(hint)
  }

  /** Lists from a checkpoint version; falls back to the whole log when that checkpoint is gone. */
  private async listFrom(version: number): Promise<LogListing> {
    const listing = await listLog(this.store, version)
    return listing.checkpoints.some((checkpoint) => checkpoint.version === version) ? listing : listLog(this.store)
  }
}

/** The contiguous run of commits ending at the newest (older commits may have been cleaned up around a gap). */
function contiguousTail(commits: readonly CommitFile[]): CommitFile[] {
  let start = commits.length - 1
  while (start > 0 && commits[start - 1]!.version === commits[start]!.version - 1) start--
  return commits.slice(Math.max(start, 0))
}
