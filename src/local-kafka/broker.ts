/**
 * Starts, stops and reports on one local Apache Kafka broker (KRaft, broker and controller in one
 * JVM) on 127.0.0.1. Each port is its own instance with its own data folder, so tests can run a
 * broker beside a developer's.
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync, openSync, closeSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { SluiceError } from '../errors.ts'
import { probeBrokers } from '../kafka/probe.ts'
import { log4jProperties, newClusterId, serverProperties } from './config.ts'
import { DEFAULT_KAFKA_VERSION, installKafka } from './install.ts'

const run = promisify(execFile)

export interface LocalKafkaOptions {
  /** Client port on 127.0.0.1. Default 9092. */
  port?: number
  /** KRaft controller port. Default `port + 1`. */
  controllerPort?: number
  /** Apache Kafka version fetched from Maven Central. Default {@link DEFAULT_KAFKA_VERSION} (env KAFKA_VERSION). */
  version?: string
  /** Cache and state root. Default env SLUICE_HOME, else `~/.cache/sluice`. */
  home?: string
  /** This instance's data folder. Default `<home>/kafka/instances/<port>`. */
  dataDir?: string
  /** Delete the instance's topics and metadata before starting. */
  fresh?: boolean
  /** JVM maximum heap. Default '1g'. */
  heap?: string
  /** How long to wait for the broker to accept requests. Default 60 s. */
  readyTimeoutMs?: number
  /** Receives one line per step (fetching, formatting, starting). */
  onProgress?: (line: string) => void
}

export interface LocalKafkaStatus {
  running: boolean
  /** `127.0.0.1:<port>` */
  bootstrap: string
  pid?: number
  dataDir: string
  /** The broker's own log (log4j). */
  logFile: string
  /** The JVM's stdout and stderr: look here when the broker does not start at all. */
  consoleFile: string
}

export interface StartedLocalKafka extends LocalKafkaStatus {
  running: true
  pid: number
  /** True when a broker of ours was already running on that port and was left as it was. */
  alreadyRunning: boolean
}

interface InstancePaths {
  port: number
  controllerPort: number
  version: string
  home: string
  dataDir: string
  logFile: string
  consoleFile: string
  pidFile: string
  propertiesFile: string
  log4jFile: string
  logDirs: string
}

function resolvePaths(options: LocalKafkaOptions): InstancePaths {
  const port = options.port ?? 9092
  const home = options.home ?? process.env.SLUICE_HOME ?? join(homedir(), '.cache', 'sluice')
  const dataDir = options.dataDir ?? join(home, 'kafka', 'instances', String(port))
  return {
    port,
    controllerPort: options.controllerPort ?? port + 1,
    version: options.version ?? process.env.KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION,
    home,
    dataDir,
    logFile: join(dataDir, 'server.log'),
    consoleFile: join(dataDir, 'console.log'),
    pidFile: join(dataDir, 'broker.pid'),
    propertiesFile: join(dataDir, 'server.properties'),
    log4jFile: join(dataDir, 'log4j2.properties'),
    logDirs: join(dataDir, 'kraft'),
  }
}

export async function localKafkaStatus(options: LocalKafkaOptions = {}): Promise<LocalKafkaStatus> {
  const paths = resolvePaths(options)
  const pid = await runningPid(paths)
  return {
    running: pid !== undefined,
    bootstrap: `127.0.0.1:${paths.port}`,
    ...(pid === undefined ? {} : { pid }),
    dataDir: paths.dataDir,
    logFile: paths.logFile,
    consoleFile: paths.consoleFile,
  }
}

/** Installs (once), formats (once per data folder) and starts the broker; resolves once it accepts requests. */
export async function startLocalKafka(options: LocalKafkaOptions = {}): Promise<StartedLocalKafka> {
  const paths = resolvePaths(options)
  const progress = options.onProgress ?? (() => undefined)

  const existingPid = await runningPid(paths)
  if (existingPid !== undefined) {
    await waitUntilReady(paths, existingPid, options.readyTimeoutMs ?? 60_000)
    return { ...(await localKafkaStatus(options)), running: true, pid: existingPid, alreadyRunning: true }
  }
  await requirePortsFree(paths)

  const libDir = await installKafka(paths.home, paths.version, progress)
  if (options.fresh === true) await rm(paths.dataDir, { recursive: true, force: true })
  await mkdir(paths.dataDir, { recursive: true })
  await writeFile(paths.propertiesFile, serverProperties({ ...paths }))
  await writeFile(paths.log4jFile, log4jProperties(paths.logFile))

  const classpath = join(libDir, '*')
  if (!existsSync(join(paths.logDirs, 'meta.properties'))) {
    progress(`Formatting KRaft storage in ${paths.logDirs}`)
    await run('java', [...jvmFlags(paths, '256m'), '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', newClusterId(), '-c', paths.propertiesFile]).catch(
      (error: unknown) => {
        throw new SluiceError('BROKER_SETUP', `Formatting Kafka storage in ${paths.logDirs} failed: ${String(error)}`, {
          fix: 'Start again with --fresh to discard the data folder, or remove it by hand.',
          cause: error,
        })
      },
    )
  }

  progress(`Starting Apache Kafka ${paths.version} on 127.0.0.1:${paths.port} (logs: ${paths.logFile})`)
  const console = openSync(paths.consoleFile, 'a')
  const broker = spawn('java', [...jvmFlags(paths, options.heap ?? '1g'), '-cp', classpath, 'kafka.Kafka', paths.propertiesFile], {
    detached: true,
    stdio: ['ignore', console, console],
  })
  closeSync(console)
  const pid = broker.pid
  if (pid === undefined) {
    throw new SluiceError('BROKER_SETUP', 'The Kafka broker process could not be spawned', { fix: 'Check that `java` runs on this machine.' })
  }
  broker.unref()
  await writeFile(paths.pidFile, `${pid}\n`)
  await waitUntilReady(paths, pid, options.readyTimeoutMs ?? 60_000)
  return { ...(await localKafkaStatus(options)), running: true, pid, alreadyRunning: false }
}

/** Stops the broker cleanly (SIGTERM, then SIGKILL after 30 s). Resolves false when none was running. */
export async function stopLocalKafka(options: LocalKafkaOptions = {}): Promise<boolean> {
  const paths = resolvePaths(options)
  const pid = await runningPid(paths)
  if (pid === undefined) {
    await rm(paths.pidFile, { force: true })
    return false
  }
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + 30_000
  while (isAlive(pid) && Date.now() < deadline) await sleep(100)
  if (isAlive(pid)) process.kill(pid, 'SIGKILL')
  while (isAlive(pid)) await sleep(50)
  await rm(paths.pidFile, { force: true })
  return true
}

function jvmFlags(paths: InstancePaths, heap: string): string[] {
  return [`-Xmx${heap}`, '-Xms128m', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${paths.log4jFile}`]
}

/** The pid of this instance's broker when it is alive and really is our broker (not a reused pid). */
async function runningPid(paths: InstancePaths): Promise<number | undefined> {
  const text = await readFile(paths.pidFile, 'utf8').catch(() => undefined)
  const pid = text === undefined ? Number.NaN : Number.parseInt(text, 10)
  if (!Number.isInteger(pid) || !isAlive(pid)) return undefined
  const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
  return commandLine.includes(paths.propertiesFile) ? pid : undefined
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function waitUntilReady(paths: InstancePaths, pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const bootstrap = [`127.0.0.1:${paths.port}`]
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      throw new SluiceError('BROKER_SETUP', `The Kafka broker exited while starting:\n${await tail(paths.consoleFile)}\n${await tail(paths.logFile)}`, {
        fix: `Read ${paths.logFile}; if the data folder is damaged, start again with --fresh.`,
      })
    }
    if (await probeBrokers(bootstrap, 1000)) return
    await sleep(200)
  }
  throw new SluiceError('BROKER_SETUP', `The Kafka broker on ${bootstrap[0]} did not accept requests within ${timeoutMs} ms`, {
    fix: `Read ${paths.logFile}; stop it with \`npm run kafka -- stop --port ${paths.port}\` and start again.`,
  })
}

async function requirePortsFree(paths: InstancePaths): Promise<void> {
  for (const port of [paths.port, paths.controllerPort]) {
    if (!(await isPortFree(port))) {
      throw new SluiceError('BROKER_SETUP', `Port ${port} on 127.0.0.1 is taken by another process`, {
        fix: `Choose other ports with --port, or point Sluice at the broker already there with KAFKA_BROKERS=127.0.0.1:${paths.port}.`,
      })
    }
  }
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

async function tail(file: string, lines = 20): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '')
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}
