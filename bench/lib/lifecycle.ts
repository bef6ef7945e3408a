/**
 * Cleanup that must happen however a benchmark run ends: normal end, error, uncaught exception,
 * SIGINT or SIGTERM. Tasks run once, newest first.
 */

type CleanupTask = () => Promise<void>

const tasks: CleanupTask[] = []
let running: Promise<void> | undefined
let installed = false

export function onCleanup(task: CleanupTask): void {
  tasks.push(task)
}

/** Runs every registered task once (later calls wait for the first); never throws. */
export function runCleanup(log: (line: string) => void): Promise<void> {
  running ??= (async () => {
    while (tasks.length > 0) {
      const task = tasks.pop()
      try {
        await task?.()
      } catch (error) {
        log(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
  })()
  return running
}

/** On SIGINT/SIGTERM or an uncaught error: clean up, then exit (130, 143 or 1). */
export function cleanupOnExitSignals(log: (line: string) => void): void {
  if (installed) return
  installed = true
  const exitAfterCleanup = (code: number, why: string): void => {
    log(`${why}; cleaning up`)
    void runCleanup(log).finally(() => process.exit(code))
  }
  process.once('SIGINT', () => exitAfterCleanup(130, 'interrupted (SIGINT)'))
  process.once('SIGTERM', () => exitAfterCleanup(143, 'terminated (SIGTERM)'))
  process.on('uncaughtException', (error) => {
    log(`uncaught exception: ${error.stack ?? error.message}`)
    exitAfterCleanup(1, 'uncaught exception')
  })
  process.on('unhandledRejection', (reason) => {
    log(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`)
    exitAfterCleanup(1, 'unhandled rejection')
  })
}
