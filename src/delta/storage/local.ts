/**
 * The local-filesystem {@link ObjectStore}: a table in a folder. Commit files are created with an
 * exclusive create (`wx`), so two writers racing for the same version cannot both win.
 */
import { mkdir, open, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { dirname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SluiceError } from '../../errors.ts'
import type { ObjectInfo, ObjectStore } from './object-store.ts'

export class LocalObjectStore implements ObjectStore {
  readonly root: string

  /** `location` is a folder path or a `file://` URI. */
  constructor(location: string) {
    this.root = resolve(location.startsWith('file:') ? fileURLToPath(location) : location)
  }

  async *list(prefix: string, options: { startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    // Listing walks only the folder the prefix names (Delta lists `_delta_log/`, never the data files).
    const slash = prefix.lastIndexOf('/')
    const folder = slash < 0 ? '' : prefix.slice(0, slash + 1)
    const paths = (await this.walk(folder)).filter((path) => path.startsWith(prefix) && (options.startAfter === undefined || path > options.startAfter))
    paths.sort()
    for (const path of paths) {
      const info = await this.headIfExists(path)
      if (info !== undefined) yield info
    }
  }

  async head(path: string): Promise<ObjectInfo> {
    const info = await this.headIfExists(path)
    if (info === undefined) throw missing(this.root, path)
    return info
  }

  async read(path: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await readFile(this.absolute(path)))
    } catch (error) {
      throw storageError(this.root, path, error)
    }
  }

  async readRange(path: string, start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0)
    let handle
    try {
      handle = await open(this.absolute(path), 'r')
      const buffer = new Uint8Array(end - start)
      let filled = 0
      while (filled < buffer.length) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, start + filled)
        if (bytesRead === 0) break
        filled += bytesRead
      }
      return filled === buffer.length ? buffer : buffer.subarray(0, filled)
    } catch (error) {
      throw storageError(this.root, path, error)
    } finally {
      await handle?.close()
    }
  }

  async putIfAbsent(path: string, data: Uint8Array): Promise<boolean> {
    const target = this.absolute(path)
    await mkdir(dirname(target), { recursive: true })
    try {
      await writeFile(target, data, { flag: 'wx' })
      return true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw storageError(this.root, path, error)
    }
  }

  async put(path: string, data: Uint8Array): Promise<void> {
    const target = this.absolute(path)
    const temporary = `${target}.${process.pid}.${Date.now()}.tmp`
    try {
      await mkdir(dirname(target), { recursive: true })
      await writeFile(temporary, data)
      await rename(temporary, target)
    } catch (error) {
      throw storageError(this.root, path, error)
    }
  }

  private absolute(path: string): string {
    const absolute = resolve(this.root, path)
    if (absolute !== this.root && !absolute.startsWith(this.root + sep)) {
      throw new SluiceError('DELTA_STORAGE', `path "${path}" leaves the table root ${this.root}`, {
        fix: 'Object paths must be relative to the table root; check the table log for a corrupt path.',
      })
    }
    return absolute
  }

  private async headIfExists(path: string): Promise<ObjectInfo | undefined> {
    try {
      const info = await stat(this.absolute(path))
      if (!info.isFile()) return undefined
      return { path, size: info.size, lastModified: Math.floor(info.mtimeMs) }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw storageError(this.root, path, error)
    }
  }

  /** Relative paths of the files below `folder` (recursively), `/`-separated. */
  private async walk(folder: string): Promise<string[]> {
    let entries
    try {
      entries = await readdir(join(this.root, folder), { withFileTypes: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw storageError(this.root, folder, error)
    }
    const paths: string[] = []
    for (const entry of entries) {
      const path = `${folder}${entry.name}`
      if (entry.isDirectory()) paths.push(...(await this.walk(`${path}/`)))
      else if (entry.isFile()) paths.push(path)
    }
    return paths
  }
}

function missing(root: string, path: string): SluiceError {
  return new SluiceError('DELTA_STORAGE', `object "${path}" does not exist under ${root}`, {
    fix: 'Check the table path; if a data file is missing, the table may have been vacuumed or copied incompletely.',
  })
}

function storageError(root: string, path: string, error: unknown): SluiceError {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return missing(root, path)
  return new SluiceError('DELTA_STORAGE', `could not access "${path}" under ${root}: ${(error as Error).message}`, {
    fix: 'Check that the folder exists and that this process may read (and, for writers, write) it.',
    cause: error,
    retriable: true,
  })
}
