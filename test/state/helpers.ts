/** Shared by the state tests: temporary state folders and the stand-in changelog file of the crash writer. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RestoreRecord } from '../../src/state/index.ts'

/** A fresh folder, removed when `cleanup` runs. */
export function temporaryDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `sluice-${prefix}-`))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The records the crash writer appended to its changelog file. */
export function readChangelogFile(path: string): RestoreRecord[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const record = JSON.parse(line) as { offset: string; key: string; value: string | null }
      return { offset: BigInt(record.offset), key: Buffer.from(record.key, 'hex'), value: record.value === null ? null : Buffer.from(record.value, 'hex') }
    })
}
