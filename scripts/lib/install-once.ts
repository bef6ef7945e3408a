/**
 * Installs something into the Sluice cache exactly once, however many processes ask at the same
 * time (test files run in parallel processes): the first to take the lock — a folder, created
 * atomically — installs, the others wait for its marker. The marker is written last, so an install
 * cut short never counts as done; a lock whose process is gone, or older than the longest install,
 * is stale.
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/** Where Sluice keeps what it downloads and builds: `SLUICE_HOME`, else `~/.cache/sluice`. */
export function sluiceHome(): string {
  return process.env.SLUICE_HOME ?? join(homedir(), '.cache', 'sluice')
}

/** Runs `install` unless `dir/.complete` exists, then writes that marker; returns `dir`. */
export async function installOnce(dir: string, install: () => Promise<void>, staleAfterMs = 30 * 60_000): Promise<string> {
  const marker = join(dir, '.complete')
  const lock = `${dir}.lock`
  await mkdir(dirname(dir), { recursive: true })
  for (;;) {
    if (existsSync(marker)) return dir
    try {
      await mkdir(lock)
      await writeFile(join(lock, 'pid'), String(process.pid))
    } catch {
      if (await isStale(lock, staleAfterMs)) await rm(lock, { recursive: true, force: true })
      await sleep(1000)
      continue
    }
    try {
      if (!existsSync(marker)) {
        await install()
        await writeFile(marker, `${new Date().toISOString()}\n`)
      }
    } finally {
      await rm(lock, { recursive: true, force: true })
    }
  }
}

/** A lock whose process is gone (killed mid-install), or older than the longest install. */
async function isStale(lock: string, staleAfterMs: number): Promise<boolean> {
  const owner = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => ''))
  if (Number.isInteger(owner) && owner > 0) {
    try {
      process.kill(owner, 0)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true
    }
  }
  const lockAge = Date.now() - ((await stat(lock).catch(() => undefined))?.mtimeMs ?? Date.now())
  return lockAge > staleAfterMs
}
