/**
 * Python virtual environments for the independent parts that tests and benchmarks run: Delta
 * writers (delta-rs, PySpark with delta-spark), a Schema Registry, independent Kafka consumers.
 * Each environment is created once from PyPI into the Sluice cache folder and reused; an install
 * cut short never counts as done (a marker file is written last).
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { installOnce, sluiceHome } from './install-once.ts'

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

async function open(dir: string, requirements: readonly string[]): Promise<PythonEnv> {
  const python = join(dir, 'bin', 'python')
  await installOnce(dir, () => create(dir, python, requirements), 20 * 60_000)
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

async function create(dir: string, python: string, requirements: readonly string[]): Promise<void> {
  console.error(`[python] creating ${dir} with ${requirements.join(' ')} (once; later runs reuse it)`)
  await rm(dir, { recursive: true, force: true })
  await run(process.env.SLUICE_PYTHON ?? 'python3', ['-m', 'venv', dir])
  await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...requirements], {
    maxBuffer: 64 * 1024 * 1024,
    timeout: 15 * 60_000,
  }).catch((error: unknown) => {
    throw new Error(`pip could not install ${requirements.join(' ')} into ${dir}: ${(error as { stderr?: string }).stderr ?? String(error)}`)
  })
}
