/**
 * `npm run kafka -- start|stop|status [--port N] [--fresh]`: the local Apache Kafka broker.
 * With KAFKA_BROKERS set, Sluice uses that broker instead, so `start` only checks it answers.
 */
import { parseArgs } from 'node:util'
import { SluiceError } from '../src/errors.ts'
import { probeBrokers } from '../src/kafka/probe.ts'
import { localKafkaStatus, startLocalKafka, stopLocalKafka } from '../src/local-kafka/index.ts'

const usage = 'usage: npm run kafka -- start|stop|status [--port 9092] [--fresh]'

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { port: { type: 'string' }, fresh: { type: 'boolean' } },
  })
  const command = positionals[0]
  const port = values.port === undefined ? undefined : Number.parseInt(values.port, 10)
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65535)) {
    console.error(`--port must be a TCP port number, got "${values.port}"`)
    return 2
  }
  const options = { ...(port === undefined ? {} : { port }), fresh: values.fresh === true, onProgress: (line: string) => console.error(line) }

  switch (command) {
    case 'start': {
      const external = process.env.KAFKA_BROKERS
      if (external !== undefined && external.trim() !== '') {
        const answers = await probeBrokers(external.split(','), 5000)
        console.log(`KAFKA_BROKERS=${external} is set; not starting a local broker (${answers ? 'it answers' : 'it does NOT answer'})`)
        return answers ? 0 : 1
      }
      const started = Date.now()
      const broker = await startLocalKafka(options)
      const seconds = ((Date.now() - started) / 1000).toFixed(1)
      console.log(`${broker.alreadyRunning ? 'already running' : `ready in ${seconds} s`}: bootstrap ${broker.bootstrap} (pid ${broker.pid})`)
      console.log(`logs: ${broker.logFile}`)
      return 0
    }
    case 'stop': {
      const stopped = await stopLocalKafka(options)
      console.log(stopped ? 'stopped' : 'no local broker was running')
      return 0
    }
    case 'status': {
      const status = await localKafkaStatus(options)
      console.log(status.running ? `running: bootstrap ${status.bootstrap} (pid ${status.pid})` : `not running (port ${status.bootstrap})`)
      console.log(`logs: ${status.logFile}`)
      return status.running ? 0 : 1
    }
    default:
      console.error(usage)
      return 2
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof SluiceError ? `error [${error.code}]: ${error.message}` : error)
    process.exit(1)
  },
)
