/**
 * Sluice processes the failure tests run as children, so that they can kill them with SIGKILL:
 * started on the test's own Node, logging at info, with a promise that resolves when the child
 * logs the line that says it is ready (and rejects if it exits first).
 */
import { spawn, type ChildProcess } from 'node:child_process'

export interface SluiceChild {
  child: ChildProcess
  /** Resolves when the child logged a line containing one of `readyWhen`. */
  ready: Promise<void>
}

export function startChild(script: string, env: Record<string, string>, readyWhen: readonly string[]): SluiceChild {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env, SLUICE_LOG_LEVEL: 'info' }, stdio: ['ignore', 'inherit', 'pipe'] })
  const label = script.split('/').pop()?.replace(/\.ts$/, '') ?? script
  const ready = new Promise<void>((resolve, reject) => {
    let partial = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) {
        if (readyWhen.some((text) => line.includes(text))) resolve()
        // Warnings, errors and anything that is not a log line (a crash) are shown.
        else if (!line.startsWith('{"level":30')) process.stderr.write(`[${label}] ${line}\n`)
      }
    })
    child.once('exit', (code, signal) => reject(new Error(`${label} exited (${code ?? signal}) before it was ready`)))
  })
  ready.catch(() => undefined)
  return { child, ready }
}

/** Resolves with the child's exit code once it has exited (null when a signal ended it). */
export function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}
