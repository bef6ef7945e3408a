/**
 * The log's actions (protocol "Actions"), normalized from either source they come in: a line of a
 * JSON commit or a row of a parquet checkpoint (where longs arrive as bigint and absent fields as
 * null). Only the fields a reader uses are kept.
 */
import { SluiceError } from '../../errors.ts'

export interface DeletionVectorDescriptor {
  readonly storageType: 'u' | 'i' | 'p'
  readonly pathOrInlineDv: string
  readonly offset?: number
  readonly sizeInBytes: number
  readonly cardinality: number
}

export interface AddFile {
  readonly path: string
  readonly partitionValues: Readonly<Record<string, string | null>>
  readonly size: number
  readonly modificationTime: number
  readonly dataChange: boolean
  readonly stats?: string
  readonly deletionVector?: DeletionVectorDescriptor
}

export interface RemoveFile {
  readonly path: string
  readonly deletionTimestamp?: number
  readonly dataChange: boolean
  readonly partitionValues?: Readonly<Record<string, string | null>>
  readonly size?: number
  readonly deletionVector?: DeletionVectorDescriptor
}

export interface CdcFile {
  readonly path: string
  readonly partitionValues: Readonly<Record<string, string | null>>
  readonly size: number
  readonly dataChange: boolean
}

export interface Metadata {
  readonly id: string
  readonly name?: string
  readonly description?: string
  readonly schemaString: string
  readonly partitionColumns: readonly string[]
  readonly configuration: Readonly<Record<string, string>>
  readonly createdTime?: number
}

export interface Protocol {
  readonly minReaderVersion: number
  readonly minWriterVersion: number
  readonly readerFeatures?: readonly string[]
  readonly writerFeatures?: readonly string[]
}

export interface CommitInfo {
  readonly timestamp?: number
  readonly inCommitTimestamp?: number
  readonly operation?: string
  readonly [key: string]: unknown
}

export interface Sidecar {
  readonly path: string
  readonly sizeInBytes: number
  readonly modificationTime: number
}

export interface Transaction {
  readonly appId: string
  readonly version: number
  readonly lastUpdated?: number
}

/** One action; exactly one member is set. */
export interface Action {
  add?: AddFile
  remove?: RemoveFile
  cdc?: CdcFile
  metaData?: Metadata
  protocol?: Protocol
  commitInfo?: CommitInfo
  sidecar?: Sidecar
  txn?: Transaction
  checkpointMetadata?: { version: number }
}

/** The actions of a JSON commit file (newline-delimited JSON). */
export function parseCommit(text: string, fileName: string): Action[] {
  const actions: Action[] = []
  let lineNumber = 0
  for (const line of text.split('\n')) {
    lineNumber++
    if (line.trim() === '') continue
    let json: unknown
    try {
      json = JSON.parse(line)
    } catch (error) {
      throw new SluiceError('DELTA_PROTOCOL', `line ${lineNumber} of ${fileName} is not JSON: ${(error as Error).message}`, {
        fix: 'The commit file is corrupt (or was written partially by a non-atomic store); restore it from a backup.',
      })
    }
    const action = normalizeAction(json as Record<string, unknown>)
    if (action !== undefined) actions.push(action)
  }
  return actions
}

/** An action from a JSON line or a checkpoint row; undefined when it carries nothing a reader uses. */
export function normalizeAction(raw: Record<string, unknown>): Action | undefined {
  const add = raw.add as Record<string, unknown> | null | undefined
  if (add != null) return { add: normalizeAdd(add) }
  const remove = raw.remove as Record<string, unknown> | null | undefined
  if (remove != null) {
    return {
      remove: {
        path: decodePath(str(remove.path)),
        deletionTimestamp: optNum(remove.deletionTimestamp),
        dataChange: remove.dataChange !== false,
        partitionValues: remove.partitionValues == null ? undefined : partitionValues(remove.partitionValues),
        size: optNum(remove.size),
        deletionVector: dv(remove.deletionVector),
      },
    }
  }
  const cdc = raw.cdc as Record<string, unknown> | null | undefined
  if (cdc != null) {
    return { cdc: { path: decodePath(str(cdc.path)), partitionValues: partitionValues(cdc.partitionValues), size: num(cdc.size), dataChange: cdc.dataChange === true } }
  }
  const metaData = raw.metaData as Record<string, unknown> | null | undefined
  if (metaData != null) {
    return {
      metaData: {
        id: str(metaData.id),
        name: optStr(metaData.name),
        description: optStr(metaData.description),
        schemaString: str(metaData.schemaString),
        partitionColumns: Array.isArray(metaData.partitionColumns) ? metaData.partitionColumns.map(String) : [],
        configuration: stringMap(metaData.configuration),
        createdTime: optNum(metaData.createdTime),
      },
    }
  }
  const protocol = raw.protocol as Record<string, unknown> | null | undefined
  if (protocol != null) {
    return {
      protocol: {
        minReaderVersion: num(protocol.minReaderVersion),
        minWriterVersion: num(protocol.minWriterVersion),
        readerFeatures: Array.isArray(protocol.readerFeatures) ? protocol.readerFeatures.map(String) : undefined,
        writerFeatures: Array.isArray(protocol.writerFeatures) ? protocol.writerFeatures.map(String) : undefined,
      },
    }
  }
  const commitInfo = raw.commitInfo as Record<string, unknown> | null | undefined
  if (commitInfo != null) {
    return { commitInfo: { ...commitInfo, timestamp: optNum(commitInfo.timestamp), inCommitTimestamp: optNum(commitInfo.inCommitTimestamp) } }
  }
  const sidecar = raw.sidecar as Record<string, unknown> | null | undefined
  if (sidecar != null) {
    return { sidecar: { path: str(sidecar.path), sizeInBytes: num(sidecar.sizeInBytes), modificationTime: num(sidecar.modificationTime) } }
  }
  const txn = raw.txn as Record<string, unknown> | null | undefined
  if (txn != null) return { txn: { appId: str(txn.appId), version: num(txn.version), lastUpdated: optNum(txn.lastUpdated) } }
  const checkpointMetadata = raw.checkpointMetadata as Record<string, unknown> | null | undefined
  if (checkpointMetadata != null) return { checkpointMetadata: { version: num(checkpointMetadata.version) } }
  return undefined
}

function normalizeAdd(add: Record<string, unknown>): AddFile {
  return {
    path: decodePath(str(add.path)),
    partitionValues: partitionValues(add.partitionValues),
    size: num(add.size),
    modificationTime: num(add.modificationTime),
    dataChange: add.dataChange !== false,
    stats: optStr(add.stats),
    deletionVector: dv(add.deletionVector),
  }
}

/**
 * Paths in the log are URIs: relative paths are percent-encoded (`a%20b=1/part.parquet`). The
 * store wants the plain relative path; absolute URIs are kept as they are.
 */
function decodePath(path: string): string {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(path)) return path
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}

function dv(raw: unknown): DeletionVectorDescriptor | undefined {
  if (raw == null || typeof raw !== 'object') return undefined
  const descriptor = raw as Record<string, unknown>
  if (descriptor.storageType == null) return undefined
  const storageType = str(descriptor.storageType)
  if (storageType !== 'u' && storageType !== 'i' && storageType !== 'p') {
    throw new SluiceError('DELTA_UNSUPPORTED_FEATURE', `deletion vector storage type "${storageType}" is not supported`, {
      fix: 'Sluice reads deletion vectors stored inline (i), by relative UUID path (u) and by absolute path (p).',
    })
  }
  return {
    storageType,
    pathOrInlineDv: str(descriptor.pathOrInlineDv),
    offset: optNum(descriptor.offset),
    sizeInBytes: num(descriptor.sizeInBytes),
    cardinality: num(descriptor.cardinality),
  }
}

function partitionValues(raw: unknown): Record<string, string | null> {
  if (raw == null) return {}
  const out: Record<string, string | null> = {}
  const entries = raw instanceof Map ? [...(raw as Map<unknown, unknown>).entries()] : Object.entries(raw as Record<string, unknown>)
  for (const [key, value] of entries) out[String(key)] = value == null ? null : typeof value === 'string' ? value : JSON.stringify(value)
  return out
}

function stringMap(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(partitionValues(raw))) if (value !== null) out[key] = value
  return out
}

function str(value: unknown): string {
  if (typeof value !== 'string') throw new SluiceError('DELTA_PROTOCOL', `expected a string in a log action, got ${typeof value}`, { fix: 'The table log is corrupt or written by a non-conforming writer.' })
  return value
}

function optStr(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function num(value: unknown): number {
  const n = optNum(value)
  if (n === undefined) throw new SluiceError('DELTA_PROTOCOL', `expected a number in a log action, got ${typeof value}`, { fix: 'The table log is corrupt or written by a non-conforming writer.' })
  return n
}

function optNum(value: unknown): number | undefined {
  if (typeof value === 'number') return value
  if (typeof value === 'bigint') return Number(value)
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value)
  return undefined
}
