/**
 * The one storage interface the Delta kernel reads and writes tables through. A table lives under
 * a root (a local folder, `s3://bucket/prefix`, `abfss://container@account.dfs.core.windows.net/path`,
 * `gs://bucket/prefix`); every path below is relative to that root and uses `/`.
 */
export interface ObjectInfo {
  /** Path relative to the store's root, e.g. `_delta_log/00000000000000000000.json`. */
  readonly path: string
  readonly size: number
  /** Last modification, in milliseconds since the epoch (Delta's timestamp fallback for commits). */
  readonly lastModified: number
}

export interface ObjectStore {
  /** The table root this store reads, for messages (never carries credentials). */
  readonly root: string
  /**
   * Objects whose path starts with `prefix`, in lexicographic order of path, beginning strictly
   * after `startAfter` when given (Delta lists `_delta_log/` from a version onward this way).
   */
  list(prefix: string, options?: { startAfter?: string }): AsyncIterable<ObjectInfo>
  /** The object's size and modification time; rejects with a DELTA_STORAGE error naming the path when it is missing. */
  head(path: string): Promise<ObjectInfo>
  /** The whole object. */
  read(path: string): Promise<Uint8Array>
  /** Bytes `[start, end)` of the object. */
  readRange(path: string, start: number, end: number): Promise<Uint8Array>
  /**
   * Writes the object only if no object exists at `path` (Delta's mutual exclusion for commit
   * files). Resolves true when written, false when the path already existed.
   */
  putIfAbsent(path: string, data: Uint8Array): Promise<boolean>
  /** Writes or replaces the object (data files, checkpoints, `_last_checkpoint`). */
  put(path: string, data: Uint8Array): Promise<void>
}
