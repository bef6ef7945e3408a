/**
 * kafka-limit: how fast the raw Kafka clients produce and consume on this machine's broker. Every
 * other Sluice benchmark is measured against these figures, so they must be the clients' honest
 * best, measured the same way for both:
 *
 * - `@platformatic/kafka` (the client Sluice uses) and `kafkajs` (the usual alternative), same run,
 *   same broker, each on a fresh 6-partition topic of its own.
 * - Produce: an idempotent producer (acks=all, no compression) sends 1,000,000 messages (200-byte
 *   value, 10-byte key) in batches of {@link BATCH_MESSAGES} messages per send call with
 *   {@link SENDS_IN_FLIGHT} send calls outstanding at once; timed from the first send to the last
 *   acknowledgement.
 * - Consume: a new consumer in a fresh group reads the topic from the earliest offset,
 *   read_committed, until every message arrived; timed from the moment the group assigned its
 *   partitions (as Kafka's own consumer-perf-test does) to the last message. The group join is
 *   reported on stderr but not in the figure.
 * - Both clients are warmed up first (a short produce and consume on a separate topic), so the
 *   figures are of steady state, not of connection set-up and JIT compilation (the broker's
 *   included). Then both produce, then both consume; the consumers read data the broker still has
 *   in the page cache, so the consume figures are mostly the clients' own decoding speed.
 * - The counts are proven: the log ends of each topic sum to the messages sent, and the consumer
 *   sees every message exactly once (key index, per-partition offsets contiguous from 0).
 *
 * MB/s counts key + value bytes (210 per message), MB = 10^6 bytes.
 *
 * This file imports both clients directly (ESLint lets only this benchmark bypass src/kafka/): the
 * limit is the raw client, not Sluice's layer over it.
 */
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import {
  Admin,
  compatibilityPartitioner,
  Consumer,
  FetchIsolationLevels,
  ListOffsetTimestamps,
  MessagesStreamModes,
  ProduceAcks,
  Producer,
} from '@platformatic/kafka'
import { CompressionTypes, Kafka, logLevel, Partitioners, type LogEntry } from 'kafkajs'
import { KafkaConsumer, KafkaProducer } from '../src/kafka/index.ts'
import { defineBenchmark } from './lib/benchmark.ts'
import type { ReportedFigure, SetupFacts } from './lib/figures.ts'
import { DeliveryCheck, KEY_BYTES, messageKey, messageValue } from './lib/messages.ts'
import { describeThroughput, now, sendInBatches, stallWatchdog, throughput, type Throughput } from './lib/timing.ts'

const PARTITIONS = 6
const VALUE_BYTES = 200
/**
 * Messages per send call and send calls outstanding, the same for both clients. A sweep of
 * 1000/2000/5000 messages x 4/8 sends put 2000 x 8 at or near the top for both (about 420 KB per
 * produce request). With idempotence both clients still put one produce request at a time on the
 * wire per broker; the outstanding sends let the next request be built while the broker works.
 */
const BATCH_MESSAGES = 2000
const SENDS_IN_FLIGHT = 8
/** Fetch sizes, the same for both clients (kafkajs's defaults). */
const FETCH_MAX_BYTES = 10 * 1024 * 1024
const FETCH_MAX_BYTES_PER_PARTITION = 1024 * 1024
const FETCH_MAX_WAIT_MS = 100
/** A consumer that receives nothing for this long fails the run instead of hanging it. */
const STALL_MS = 30_000

interface ConsumeTiming {
  /** From asking to consume until the group assigned partitions. */
  joinMs: number
  /** From the assignment until the last message arrived: the measured part. */
  fetchMs: number
}

/** One client, driven the way its documentation recommends for throughput. */
interface RawClient {
  /** Figure prefix: `platformatic`, `kafkajs`. */
  name: string
  /** Package and version, for the figures' setup. */
  package: string
  /** Sends messages 0..count-1 to `topic`; resolves with the milliseconds the sending took. */
  produce: (topic: string, count: number) => Promise<number>
  /** Consumes `topic` with a new consumer in a fresh group until `check` has all its messages. */
  consume: (topic: string, check: DeliveryCheck) => Promise<ConsumeTiming>
  close: () => Promise<void>
}

const value = messageValue(VALUE_BYTES)

function packageVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version?: unknown }
  return `${name} ${typeof manifest.version === 'string' ? manifest.version : '?'}`
}

function platformaticClient(bootstrapBrokers: string[]): RawClient {
  // Idempotent: the client then forces acks=all and one request in flight per connection (KIP-98).
  // The Java-compatible murmur2 partitioner puts each key on the same partition as kafkajs does.
  const producer = new Producer({
    clientId: 'sluice-bench-platformatic',
    bootstrapBrokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    compression: 'none',
    partitioner: compatibilityPartitioner,
    autocreateTopics: false,
  })
  return {
    name: 'platformatic',
    package: packageVersion('@platformatic/kafka'),
    async produce(topic, count) {
      const started = now()
      await sendInBatches(count, BATCH_MESSAGES, SENDS_IN_FLIGHT, async (first, size) => {
        const messages = new Array<{ topic: string; key: Buffer; value: Buffer }>(size)
        for (let i = 0; i < size; i++) messages[i] = { topic, key: messageKey(first + i), value }
        await producer.send({ messages })
      })
      return now() - started
    },
    async consume(topic, check) {
      const consumer = new Consumer({
        clientId: 'sluice-bench-platformatic',
        groupId: `sluice-bench-${topic}-${Date.now()}`,
        bootstrapBrokers,
        autocommit: false,
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
        minBytes: 1,
        maxBytes: FETCH_MAX_BYTES,
        maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION,
        maxWaitTime: FETCH_MAX_WAIT_MS,
      })
      let joinedAt: number | undefined
      consumer.once('consumer:group:join', () => {
        joinedAt = now()
      })
      const done = Promise.withResolvers<number>()
      const watchdog = stallWatchdog(STALL_MS, () => check.received, () => `platformatic consumer of ${topic} has ${check.received}/${check.total} messages`)
      const asked = now()
      try {
        // The documented way to consume: a stream in flowing mode ('data' events).
        const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false })
        stream.on('error', (error: Error) => done.reject(error))
        stream.on('data', (message) => {
          check.record(message.partition, Number(message.offset), message.key, message.value.length)
          if (check.received === check.total) done.resolve(now())
        })
        const finished = await Promise.race([done.promise, watchdog.promise])
        if (joinedAt === undefined) throw new Error('the platformatic consumer never reported joining its group')
        return { joinMs: joinedAt - asked, fetchMs: finished - joinedAt }
      } finally {
        watchdog.stop()
        await consumer.close(true)
      }
    },
    async close() {
      await producer.close()
    },
  }
}

function kafkajsClient(brokers: string[], progress: (line: string) => void): RawClient {
  // kafkajs logs to stdout by default; stdout is for figures only.
  const logCreator = () => (entry: LogEntry) => progress(`[kafkajs ${entry.label}] ${entry.namespace}: ${entry.log.message}`)
  const kafka = new Kafka({ clientId: 'sluice-bench-kafkajs', brokers, logLevel: logLevel.WARN, logCreator })
  // Idempotent (acks=all, and kafkajs then serialises produce requests per broker, as KIP-98 asks).
  // DefaultPartitioner is kafkajs's Java-compatible murmur2.
  const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })
  let connected: Promise<void> | undefined
  return {
    name: 'kafkajs',
    package: packageVersion('kafkajs'),
    async produce(topic, count) {
      connected ??= producer.connect()
      await connected
      const started = now()
      await sendInBatches(count, BATCH_MESSAGES, SENDS_IN_FLIGHT, async (first, size) => {
        const messages = new Array<{ key: Buffer; value: Buffer }>(size)
        for (let i = 0; i < size; i++) messages[i] = { key: messageKey(first + i), value }
        await producer.send({ topic, messages, acks: -1, compression: CompressionTypes.None })
      })
      return now() - started
    },
    async consume(topic, check) {
      const consumer = kafka.consumer({
        groupId: `sluice-bench-${topic}-${Date.now()}`,
        readUncommitted: false,
        allowAutoTopicCreation: false,
        minBytes: 1,
        maxBytes: FETCH_MAX_BYTES,
        maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION,
        maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
      })
      let joinedAt: number | undefined
      consumer.on(consumer.events.GROUP_JOIN, () => {
        joinedAt ??= now()
      })
      const done = Promise.withResolvers<number>()
      consumer.on(consumer.events.CRASH, (event) => done.reject(event.payload.error))
      const watchdog = stallWatchdog(STALL_MS, () => check.received, () => `kafkajs consumer of ${topic} has ${check.received}/${check.total} messages`)
      const asked = now()
      try {
        await consumer.connect()
        await consumer.subscribe({ topics: [topic], fromBeginning: true })
        // eachBatch is what kafkajs recommends for throughput. partitionsConsumedConcurrently stays
        // at its default of 1: the handler is synchronous, and 6 measured no faster.
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const partition = batch.partition
            for (const message of batch.messages) {
              check.record(partition, Number(message.offset), message.key, message.value?.length ?? -1)
            }
            if (check.received >= check.total) done.resolve(now())
            return Promise.resolve()
          },
        })
        const finished = await Promise.race([done.promise, watchdog.promise])
        if (joinedAt === undefined) throw new Error('the kafkajs consumer never reported joining its group')
        return { joinMs: joinedAt - asked, fetchMs: finished - joinedAt }
      } finally {
        watchdog.stop()
        await consumer.disconnect()
      }
    },
    async close() {
      if (connected) await producer.disconnect()
    },
  }
}

/** Each partition's log end offset (high watermark), read through an admin client. */
/**
 * Sluice's own layer (src/kafka) over @platformatic/kafka, driven as Sluice's pipelines drive it:
 * the same batches, but one request in flight (the layer serialises sends, see producer.ts), and
 * messages read in batches (`consumer.batches()`), as the Application reads them.
 */
function sluiceClient(brokers: string[]): RawClient {
  const producer = new KafkaProducer({ brokers, clientId: 'sluice-bench-sluice' })
  return {
    name: 'sluice',
    package: `sluice src/kafka over ${packageVersion('@platformatic/kafka')}`,
    async produce(topic, count) {
      const started = now()
      await sendInBatches(count, BATCH_MESSAGES, SENDS_IN_FLIGHT, async (first, size) => {
        const messages = new Array<{ topic: string; key: Buffer; value: Buffer }>(size)
        for (let i = 0; i < size; i++) messages[i] = { topic, key: messageKey(first + i), value }
        await producer.send(messages)
      })
      return now() - started
    },
    async consume(topic, check) {
      let assignedAt: number | undefined
      const consumer = new KafkaConsumer({
        brokers,
        clientId: 'sluice-bench-sluice',
        groupId: `sluice-bench-${topic}-${Date.now()}`,
        topics: [topic],
        maxWaitMs: FETCH_MAX_WAIT_MS,
        onAssigned: () => {
          assignedAt ??= now()
        },
      })
      const asked = now()
      const watchdog = stallWatchdog(STALL_MS, () => check.received, () => `sluice consumer of ${topic} has ${check.received}/${check.total} messages`)
      const reading = (async () => {
        for await (const batch of consumer.batches()) {
          for (const message of batch) check.record(message.partition, Number(message.offset), message.key ?? Buffer.alloc(0), message.value?.length ?? 0)
          if (check.received === check.total) return now()
        }
        throw new Error('the sluice consumer stopped before every message arrived')
      })()
      try {
        const finished = await Promise.race([reading, watchdog.promise])
        if (assignedAt === undefined) throw new Error('the sluice consumer never reported its assignment')
        return { joinMs: assignedAt - asked, fetchMs: finished - assignedAt }
      } finally {
        watchdog.stop()
        await consumer.close()
      }
    },
    async close() {
      await producer.close()
    },
  }
}

async function endOffsets(admin: Admin, topic: string): Promise<number[]> {
  const listed = await admin.listOffsets({
    topics: [{ name: topic, partitions: Array.from({ length: PARTITIONS }, (_, partitionIndex) => ({ partitionIndex, timestamp: ListOffsetTimestamps.LATEST })) }],
    isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
  })
  const ends = new Array<number>(PARTITIONS).fill(-1)
  for (const partition of listed.find((t) => t.name === topic)?.partitions ?? []) ends[partition.partitionIndex] = Number(partition.offset)
  if (ends.includes(-1)) throw new Error(`listOffsets did not return every partition of ${topic}: ${ends.join(',')}`)
  return ends
}

/** Produces `count` messages and proves the log grew by exactly that many. */
async function produceChecked(client: RawClient, admin: Admin, topic: string, count: number): Promise<{ elapsedMs: number; ends: number[] }> {
  const elapsedMs = await client.produce(topic, count)
  const ends = await endOffsets(admin, topic)
  const sum = ends.reduce((a, b) => a + b, 0)
  if (sum !== count) throw new Error(`${client.name} produced ${count} messages but ${topic}'s partitions end at ${ends.join(',')} (sum ${sum})`)
  return { elapsedMs, ends }
}

/** Consumes the topic and proves every message arrived exactly once. */
async function consumeChecked(client: RawClient, topic: string, ends: number[], count: number): Promise<ConsumeTiming> {
  const check = new DeliveryCheck(count, PARTITIONS, VALUE_BYTES)
  const timing = await client.consume(topic, check)
  check.assertComplete(ends)
  return timing
}

export default defineBenchmark({
  description: 'raw produce (idempotent, acks=all) and consume throughput of @platformatic/kafka and kafkajs',
  needsKafka: true,
  async run({ quick, kafkaBrokers, report, progress }) {
    const messages = quick ? 200_000 : 1_000_000
    const warmupMessages = quick ? 50_000 : 200_000
    const bytes = messages * (KEY_BYTES + VALUE_BYTES)
    const runId = `${Date.now().toString(36)}`
    const admin = new Admin({ clientId: 'sluice-bench-admin', bootstrapBrokers: kafkaBrokers })
    const clients = [platformaticClient(kafkaBrokers), sluiceClient(kafkaBrokers), kafkajsClient(kafkaBrokers, progress)]
    const topics = new Map(clients.map((client) => [client.name, { warmup: `bench-limit-warmup-${client.name}-${runId}`, measured: `bench-limit-${client.name}-${runId}` }]))
    const allTopics = [...topics.values()].flatMap((t) => [t.warmup, t.measured])
    const topicsOf = (client: RawClient): { warmup: string; measured: string } => {
      const names = topics.get(client.name)
      if (names === undefined) throw new Error(`no topics for ${client.name}`)
      return names
    }

    try {
      await admin.createTopics({ topics: allTopics, partitions: PARTITIONS, replicas: 1 })
      // Wait until every partition's leader serves requests (ListOffsets goes to the leader and is
      // retried until it answers). Producing before that gets NOT_LEADER_OR_FOLLOWER, and
      // @platformatic/kafka 2.12.1's idempotent producer, with several sends in flight, recovers
      // from that by re-sending under a new producer id and writes duplicates (seen here; the
      // delivery checks below would fail the run).
      for (const topic of allTopics) {
        const ends = await endOffsets(admin, topic)
        if (ends.some((end) => end !== 0)) throw new Error(`new topic ${topic} is not empty: ${ends.join(',')}`)
      }
      progress(`created ${allTopics.length} topics of ${PARTITIONS} partitions; ${messages.toLocaleString('en-US')} messages of ${KEY_BYTES}+${VALUE_BYTES} bytes per client`)
      progress(`produce: idempotent, acks=all, no compression, ${BATCH_MESSAGES} messages per send, ${SENDS_IN_FLIGHT} sends in flight`)
      progress(`consume: fresh group from earliest, read_committed, fetch max ${FETCH_MAX_BYTES_PER_PARTITION / 1024 / 1024} MiB per partition`)

      for (const client of clients) {
        const { warmup } = topicsOf(client)
        const started = now()
        const { ends } = await produceChecked(client, admin, warmup, warmupMessages)
        await consumeChecked(client, warmup, ends, warmupMessages)
        progress(`${client.name}: warmed up with ${warmupMessages.toLocaleString('en-US')} messages in ${((now() - started) / 1000).toFixed(1)} s`)
      }

      const produced = new Map<string, { throughput: Throughput; ends: number[] }>()
      for (const client of clients) {
        const result = await produceChecked(client, admin, topicsOf(client).measured, messages)
        const measured = throughput(messages, bytes, result.elapsedMs)
        produced.set(client.name, { throughput: measured, ends: result.ends })
        progress(`${client.name} produce: ${describeThroughput(measured)} (per partition ${result.ends.join(',')})`)
      }

      const consumed = new Map<string, Throughput>()
      for (const client of clients) {
        const ends = produced.get(client.name)?.ends ?? []
        const timing = await consumeChecked(client, topicsOf(client).measured, ends, messages)
        const measured = throughput(messages, bytes, timing.fetchMs)
        consumed.set(client.name, measured)
        progress(`${client.name} consume: ${describeThroughput(measured)} (group join ${(timing.joinMs / 1000).toFixed(2)} s not counted); every message once`)
      }

      const common: SetupFacts = { messages, partitions: PARTITIONS, key_bytes: KEY_BYTES, value_bytes: VALUE_BYTES, cpus: availableParallelism() }
      const produceSetup = (client: RawClient): SetupFacts => ({
        ...common,
        client: client.package,
        idempotent: true,
        acks: 'all',
        compression: 'none',
        batch: BATCH_MESSAGES,
        in_flight: SENDS_IN_FLIGHT,
      })
      const consumeSetup = (client: RawClient): SetupFacts => ({
        ...common,
        client: client.package,
        isolation: 'read_committed',
        from: 'earliest, fresh group',
        fetch_max_bytes_per_partition: FETCH_MAX_BYTES_PER_PARTITION,
      })
      const [limitClient, ...others] = clients
      if (limitClient === undefined) return
      for (const [operation, results, setup] of [
        ['produce', new Map([...produced].map(([name, p]) => [name, p.throughput])), produceSetup],
        ['consume', consumed, consumeSetup],
      ] as const) {
        const limitResult = results.get(limitClient.name)
        if (limitResult === undefined) continue
        const msgsLimit: ReportedFigure = report.limit(`${limitClient.name}_${operation}_msgs_per_s`, limitResult.msgsPerSecond, 'msg/s', setup(limitClient))
        const mbLimit: ReportedFigure = report.limit(`${limitClient.name}_${operation}_mb_per_s`, limitResult.megabytesPerSecond, 'MB/s', setup(limitClient))
        for (const other of others) {
          const result = results.get(other.name)
          if (result === undefined) continue
          report.compared(`${other.name}_${operation}_msgs_per_s`, result.msgsPerSecond, 'msg/s', msgsLimit, setup(other))
          report.compared(`${other.name}_${operation}_mb_per_s`, result.megabytesPerSecond, 'MB/s', mbLimit, setup(other))
        }
      }
    } finally {
      for (const client of clients) await client.close().catch((error: unknown) => progress(`closing ${client.name}: ${String(error)}`))
      await admin.deleteTopics({ topics: allTopics }).catch((error: unknown) => progress(`deleting the benchmark topics: ${String(error)}`))
      await admin.close()
    }
  },
})
