/**
 * What the state and window tests share: applications on the test broker with their own state
 * folder, topics deleted afterwards, a logger whose lines the test can read, and a runner that
 * stops an application once it has processed a given number of records.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino, type Logger } from 'pino'
import { Application, type ApplicationOptions } from '../../src/app/index.ts'
import { KafkaAdmin, KafkaProducer, type OutgoingMessage } from '../../src/kafka/index.ts'
import { testBrokers, uniqueName } from '../helpers/kafka.ts'

/** Whole minutes, ten minutes ago: window starts are round and the broker accepts the timestamps. */
export const BASE_TIME = Math.floor((Date.now() - 600_000) / 60_000) * 60_000

export class Harness {
  readonly admin = new KafkaAdmin({ brokers: testBrokers() })
  readonly created: string[] = []
  /** Log lines of every application of this harness (JSON objects). */
  readonly logLines: Array<Record<string, unknown>> = []
  readonly logger: Logger = pino({ level: 'info' }, { write: (line: string) => void this.logLines.push(JSON.parse(line) as Record<string, unknown>) })

  async stateDir(): Promise<string> {
    return mkdtemp(join(tmpdir(), 'sluice-state-test-'))
  }

  async topic(prefix: string, partitions: number): Promise<string> {
    const name = uniqueName(prefix)
    this.created.push(name)
    await this.admin.createTopics([{ name, partitions }])
    return name
  }

  app(options: Partial<ApplicationOptions> & { applicationId: string; stateDir: string }): Application {
    return new Application({ brokers: testBrokers(), commitIntervalMs: 200, logger: this.logger, handleSignals: false, ...options })
  }

  async produce(messages: OutgoingMessage[]): Promise<void> {
    const producer = new KafkaProducer({ brokers: testBrokers() })
    try {
      await producer.send(messages)
    } finally {
      await producer.close()
    }
  }

  /** Deletes the topics this harness made, and the internal topics of these applications. */
  async close(applicationIds: string[]): Promise<void> {
    const internal = (await this.admin.listTopics()).filter((name) => applicationIds.some((id) => name.startsWith(`${id}-`)))
    await this.admin.deleteTopics([...this.created, ...internal]).catch(() => undefined)
    await this.admin.close()
  }
}

/** Runs `app` until it processed `count` records, then stops it (a last checkpoint commits) and waits for the end. */
export async function runUntilProcessed(app: Application, count: number, timeoutMs = 60_000): Promise<void> {
  const running = app.run()
  let failure: unknown
  running.catch((error: unknown) => (failure = error))
  const deadline = Date.now() + timeoutMs
  while (failure === undefined && app.stats().processed < count) {
    if (Date.now() > deadline) {
      app.stop()
      await running.catch(() => undefined)
      throw new Error(`the application processed ${app.stats().processed} of ${count} records within ${timeoutMs} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  app.stop()
  await running
}

export function json(value: Buffer | null): unknown {
  return JSON.parse(value?.toString() ?? 'null') as unknown
}
