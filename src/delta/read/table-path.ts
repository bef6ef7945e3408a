/**
 * Paths in the log are relative to the table root, or absolute URIs (shallow clones, deletion
 * vectors stored by absolute path). The store reads root-relative paths, so an absolute URI under
 * the table root becomes relative, and one elsewhere is refused clearly rather than misread.
 */
import { SluiceError } from '../../errors.ts'
import type { ObjectStore } from '../storage/object-store.ts'

const ABSOLUTE = /^[a-zA-Z][a-zA-Z0-9+.-]*:/

export function tablePath(store: ObjectStore, path: string, what: string): string {
  if (!ABSOLUTE.test(path)) return path
  const root = store.root.replace(/\/+$/, '')
  const candidates = [path, path.replace(/^file:(\/\/)?/, '')]
  for (const candidate of candidates) {
    if (candidate.startsWith(`${root}/`)) return safeDecode(candidate.slice(root.length + 1))
  }
  throw new SluiceError('DELTA_UNSUPPORTED_FEATURE', `${what} is stored outside the table root ${root} (${path.split('?')[0]})`, {
    fix: 'Sluice reads files stored under the table root; for a shallow clone, read the source table, or make a deep clone.',
  })
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}
