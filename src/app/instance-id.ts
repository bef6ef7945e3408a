/**
 * The identity of one running instance of an application, kept in its state folder so that it
 * survives restarts. It names the instance's transactional producer and its static group
 * membership: a restarted instance fences its own zombie at once (aborting the transaction the
 * crashed process left open, instead of blocking read_committed readers until it times out) and
 * takes its partitions back without a rebalance.
 */
import { randomUUID } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export function persistentInstanceId(stateDir: string, applicationId: string): string {
  const dir = join(stateDir, applicationId)
  const file = join(dir, 'instance-id')
  try {
    const existing = readFileSync(file, 'utf8').trim()
    if (existing !== '') return existing
  } catch {
    // First start in this state folder: make an id below.
  }
  mkdirSync(dir, { recursive: true })
  const id = randomUUID().slice(0, 8)
  writeFileSync(file, `${id}\n`, { flag: 'wx' })
  return id
}
