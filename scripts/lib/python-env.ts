/**
 * Python virtual environments for the independent parts that tests and benchmarks run: Delta
 * writers (delta-rs, PySpark with delta-spark), a Schema Registry, independent Kafka consumers.
 * Each environment is created once from PyPI into the Sluice cache folder and reused; an install
 * cut short never counts as done (a marker file is written last).
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, rm, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface PythonEnv {
  /** The environment's python executable. */
  python: string
  /** Runs a Python script in the environment; resolves with its stdout, rejects with its stderr. */
  runScript(script: string, args?: string[], options?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<string>
}

/** Environments already checked in this process, so concurrent callers install once. */
const ready = new Map<string, Promise<PythonEnv>>()

/**
 * The environment `name` with exactly `requirements` (pinned `pkg==version` specs) installed.
 * A change of the requirements makes a new environment beside the old one.
 */
export function pythonEnv(name: string, requirements: readonly string[]): Promise<PythonEnv> {
  const digest = createHash('sha256').update(requirements.join('\n')).digest('hex').slice(0, 12)
  const dir = join(sluiceHome(), 'python', `${name}-${digest}`)
  let env = ready.get(dir)
  if (env === undefined) {
    env = open(dir, requirements)
    ready.set(dir, env)
  }
  return env
}

function sluiceHome(): string {
  return process.env.SLUICE_HOME ?? join(homedir(), '.cache', 'sluice')
}

async function open(dir: string, requirements: readonly string[]): Promise<PythonEnv> {
  const python = join(dir, 'bin', 'python')
  const marker = join(dir, '.complete')
  if (!existsSync(marker)) await withInstallLock(dir, marker, () => create(dir, python, marker, requirements))
  return {
    python,
    async runScript(script, args = [], options = {}) {
      try {
        const { stdout } = await run(python, ['-c', script, ...args], {
          env: { ...process.env, ...options.env },
          maxBuffer: 512 * 1024 * 1024,
          timeout: options.timeoutMs ?? 10 * 60_000,
        })
        return stdout
      } catch (error) {
        const { stderr } = error as { stderr?: string }
        throw new Error(`python script failed in ${dir}: ${stderr?.split('\n').slice(-25).join('\n') ?? String(error)}`, { cause: error })
      }
    },
  }
}

async function create(dir: string, python: string, marker: string, requirements: readonly string[]): Promise<void> {
  console.error(`[python] creating ${dir} with ${requirements.join(' ')} (once; later runs reuse it)`)
  await rm(dir, { recursive: true, force: true })
  await run(process.env.SLUICE_PYTHON ?? 'python3', ['-m', 'venv', dir])
  await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...requirements], {
    maxBuffer: 64 * 1024 * 1024,
    timeout: 15 * 60_000,
  }).catch((error: unknown) => {
    throw new Error(`pip could not install ${requirements.join(' ')} into ${dir}: ${(error as { stderr?: string }).stderr ?? String(error)}`)
  })
  await writeFile(marker, `${new Date().toISOString()}\n`)
}

/**
 * Test files run in parallel processes: the first to take the lock (a folder, created atomically)
 * installs, the others wait for its marker. A lock older than the longest install is stale.
 */
async function withInstallLock(dir: string, marker: string, install: () => Promise<void>): Promise<void> {
  const lock = `${dir}.lock`
  await mkdir(join(dir, '..'), { recursive: true })
  for (;;) {
    if (existsSync(marker)) return
    try {
      await mkdir(lock)
    } catch {
      const lockAge = Date.now() - ((await stat(lock).catch(() => undefined))?.mtimeMs ?? Date.now())
      if (lockAge > 20 * 60_000) await rm(lock, { recursive: true, force: true })
      await sleep(1000)
      continue
    }
    try {
      if (!existsSync(marker)) await install()
    } finally {
      await rm(lock, { recursive: true, force: true })
    }
  }
}
