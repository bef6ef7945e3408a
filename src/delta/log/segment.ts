/**
 * The log segment of a version: the newest complete checkpoint at or before it, and the JSON
 * commits after that checkpoint up to the version. Found by listing `_delta_log/` (from the
 * `_last_checkpoint` hint when the version is at or after it).
 */
import { SluiceError } from '../../errors.ts'
import type { ObjectInfo, ObjectStore } from '../storage/object-store.ts'

export const LOG_DIR = '_delta_log/'

export interface CommitFile {
  readonly version: number
  readonly file: ObjectInfo
}

export interface CheckpointFiles {
  readonly version: number
  /** `classic` (one parquet), `multipart` (all parts, in order) or `v2` (one UUID-named json/parquet file). */
  readonly kind: 'classic' | 'multipart' | 'v2'
  readonly files: readonly ObjectInfo[]
}

export interface LogSegment {
  readonly version: number
  readonly checkpoint?: CheckpointFiles
  /** Commits after the checkpoint (or from version 0) up to `version`, ascending. */
  readonly commits: readonly CommitFile[]
}

/** What a listing of `_delta_log/` holds. */
export interface LogListing {
  readonly commits: CommitFile[]
  readonly checkpoints: CheckpointFiles[]
}

const COMMIT = /^_delta_log\/(\d{20})\.json$/
const CLASSIC = /^_delta_log\/(\d{20})\.checkpoint\.parquet$/
const MULTIPART = /^_delta_log\/(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/
const UUID_NAMED = /^_delta_log\/(\d{20})\.checkpoint\.[0-9a-fA-F-]{36}\.(json|parquet)$/

/** Lists the log from `fromVersion` (inclusive) onward. */
export async function listLog(store: ObjectStore, fromVersion = 0): Promise<LogListing> {
  const commits: CommitFile[] = []
  const multipart = new Map<string, { version: number; parts: number; files: Map<number, ObjectInfo> }>()
  const checkpoints: CheckpointFiles[] = []
  const startAfter = fromVersion > 0 ? `${LOG_DIR}${String(fromVersion - 1).padStart(20, '0')}.~` : undefined
  for await (const info of store.list(LOG_DIR, startAfter === undefined ? {} : { startAfter })) {
    let match
    if ((match = COMMIT.exec(info.path)) !== null) {
      commits.push({ version: Number(match[1]), file: info })
    } else if ((match = CLASSIC.exec(info.path)) !== null) {
      checkpoints.push({ version: Number(match[1]), kind: 'classic', files: [info] })
    } else if ((match = UUID_NAMED.exec(info.path)) !== null) {
      checkpoints.push({ version: Number(match[1]), kind: 'v2', files: [info] })
    } else if ((match = MULTIPART.exec(info.path)) !== null) {
      const version = Number(match[1])
      const parts = Number(match[3])
      const key = `${version}/${parts}`
      const entry = multipart.get(key) ?? { version, parts, files: new Map<number, ObjectInfo>() }
      entry.files.set(Number(match[2]), info)
      multipart.set(key, entry)
    }
  }
  for (const { version, parts, files } of multipart.values()) {
    // A multi-part checkpoint counts only when every part is there (a writer may have died midway).
    if (files.size !== parts) continue
    const ordered: ObjectInfo[] = []
    for (let part = 1; part <= parts; part++) {
      const file = files.get(part)
      if (file === undefined) break
      ordered.push(file)
    }
    if (ordered.length === parts) checkpoints.push({ version, kind: 'multipart', files: ordered })
  }
  commits.sort((a, b) => a.version - b.version)
  checkpoints.sort((a, b) => a.version - b.version)
  return { commits, checkpoints }
}

/** The `_last_checkpoint` hint's version, or undefined when there is none (or it is unreadable). */
export async function lastCheckpointVersion(store: ObjectStore): Promise<number | undefined> {
  let bytes: Uint8Array
  try {
    bytes = await store.read(`${LOG_DIR}_last_checkpoint`)
  } catch {
    return undefined // the hint is optional; listing finds the checkpoints anyway
  }
  try {
    const hint = JSON.parse(new TextDecoder().decode(bytes)) as { version?: unknown }
    return typeof hint.version === 'number' ? hint.version : undefined
  } catch {
    return undefined
  }
}

/** The segment that builds `version` (the newest when undefined). */
export function segmentFor(store: ObjectStore, listing: LogListing, version?: number): LogSegment {
  const { commits, checkpoints } = listing
  const newest = Math.max(commits.at(-1)?.version ?? -1, checkpoints.at(-1)?.version ?? -1)
  if (newest < 0) {
    throw new SluiceError('DELTA_TABLE_NOT_FOUND', `no Delta table at ${store.root}: _delta_log/ has no commits`, {
      fix: 'Check the table path (it must be the folder that contains _delta_log/) and the credentials for it.',
    })
  }
  const target = version ?? newest
  if (target > newest || target < 0 || !Number.isInteger(target)) {
    throw new SluiceError('DELTA_VERSION_NOT_FOUND', `version ${target} of the table at ${store.root} does not exist (latest is ${newest})`, {
      fix: `Ask for a version between the oldest kept and ${newest}.`,
    })
  }
  const checkpoint = checkpoints.filter((candidate) => candidate.version <= target).at(-1)
  const from = checkpoint === undefined ? 0 : checkpoint.version + 1
  const needed = commits.filter((commit) => commit.version >= from && commit.version <= target)
  let expected = from
  for (const commit of needed) {
    if (commit.version !== expected) break
    expected++
  }
  if (expected !== target + 1) {
    throw new SluiceError('DELTA_VERSION_NOT_FOUND', `version ${target} of the table at ${store.root} cannot be rebuilt: commit ${expected} is missing${checkpoint === undefined ? ' and no checkpoint precedes it' : ''}`, {
      fix: 'The log was cleaned up past this version (delta.logRetentionDuration); read a newer version.',
    })
  }
  return checkpoint === undefined ? { version: target, commits: needed } : { version: target, checkpoint, commits: needed }
}
