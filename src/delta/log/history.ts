/**
 * Commit timestamps, for time travel and the change feed's `_commit_timestamp`: the commit's
 * `inCommitTimestamp` when in-commit timestamps are on (protocol "In-Commit Timestamps"), else the
 * commit file's modification time, made strictly increasing as Delta readers do (a later commit
 * never appears older than an earlier one).
 */
import type { ObjectStore } from '../storage/object-store.ts'
import { readCommit } from './replay.ts'
import type { CommitFile } from './segment.ts'

export interface CommitTimestamp {
  readonly version: number
  /** Milliseconds since the epoch. */
  readonly timestamp: number
}

/** The timestamp of one commit, from its commitInfo (in-commit timestamp) or its file. */
export async function commitTimestamp(store: ObjectStore, commit: CommitFile): Promise<number> {
  const actions = await readCommit(store, commit.file.path)
  return timestampOf(actions.find((action) => action.commitInfo !== undefined)?.commitInfo?.inCommitTimestamp, commit)
}

export function timestampOf(inCommitTimestamp: number | undefined, commit: CommitFile): number {
  return inCommitTimestamp ?? commit.file.lastModified
}

/**
 * The timestamps of `commits` (ascending, contiguous). `readInCommit` says whether commit files
 * must be opened for their in-commit timestamps (the table has them enabled).
 */
export async function commitTimestamps(store: ObjectStore, commits: readonly CommitFile[], readInCommit: boolean): Promise<CommitTimestamp[]> {
  const out: CommitTimestamp[] = []
  let previous = -Infinity
  for (const commit of commits) {
    const raw = readInCommit ? await commitTimestamp(store, commit) : commit.file.lastModified
    const timestamp = Math.max(raw, previous + 1)
    out.push({ version: commit.version, timestamp })
    previous = timestamp
  }
  return out
}
