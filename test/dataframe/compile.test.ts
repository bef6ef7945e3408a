/**
 * The dataframe's compiled functions, fed records directly: what each operator does to values,
 * keys, timestamps and headers, branching, concat and groupBy's hand-off to a repartition topic.
 * (The same pipelines against the real broker are the Application's tests.)
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { compileTopology, noHeaders, StreamingDataFrame, Topology, type Headers, type RecordMetadata, type Topic } from '../../src/dataframe/index.ts'

interface Order {
  id: number
  customer: string
  amount: number
}

interface Sent {
  topic: string
  key: unknown
  value: unknown
  timestamp: number
  headers: Headers
}

function harness() {
  const topology = new Topology('app-repartition-')
  const sent: Sent[] = []
  const run = (topicName: string, records: Array<{ value: unknown; key?: unknown; timestamp?: number }>) => {
    const handler = compileTopology(topology, {
      send: (topic, key, value, timestamp, headers) => sent.push({ topic: topic.name, key, value, timestamp, headers }),
    }).get(topicName)
    assert.ok(handler, `a pipeline reads ${topicName}`)
    records.forEach((record, index) => {
      const meta: RecordMetadata<unknown> = {
        key: record.key ?? null,
        timestamp: record.timestamp ?? 1000 + index,
        headers: noHeaders,
        topic: topicName,
        partition: 0,
        offset: BigInt(index),
      }
      handler(record.value, meta)
    })
  }
  const source = <K, V>(name: string): [StreamingDataFrame<V, K>, Topic<K, V>] => {
    const topic: Topic<K, V> = { name }
    return [new StreamingDataFrame<V, K>(topology, topology.addSource(topic)), topic]
  }
  return { topology, sent, run, source }
}

const orders: Order[] = [
  { id: 1, customer: 'ada', amount: 30 },
  { id: 2, customer: 'bob', amount: 5 },
  { id: 3, customer: 'ada', amount: 12 },
]

describe('StreamingDataFrame operators', () => {
  test('filter, apply, withColumn, select and toTopic run in order and keep the key', () => {
    const { sent, run, source } = harness()
    const [sdf] = source<string, Order>('orders')
    sdf
      .filter((order) => order.amount >= 10)
      .withColumn('vat', (order) => order.amount / 5)
      .select('id', 'vat')
      .toTopic({ name: 'big-orders' })
    run('orders', orders.map((value) => ({ value, key: value.customer })))
    assert.deepEqual(sent.map(({ topic, key, value }) => ({ topic, key, value })), [
      { topic: 'big-orders', key: 'ada', value: { id: 1, vat: 6 } },
      { topic: 'big-orders', key: 'ada', value: { id: 3, vat: 2.4 } },
    ])
  })

  test('apply with expand turns one record into several, each with the source metadata', () => {
    const { sent, run, source } = harness()
    const [sdf] = source<null, string>('lines')
    sdf.apply((line) => line.split(' '), { expand: true }).toTopic({ name: 'words' })
    run('lines', [{ value: 'to be or', timestamp: 7 }, { value: '', timestamp: 8 }])
    assert.deepEqual(sent.map(({ value, timestamp }) => [value, timestamp]), [['to', 7], ['be', 7], ['or', 7], ['', 8]])
  })

  test('update sees every record and passes it on unchanged; column reads one field', () => {
    const { sent, run, source } = harness()
    const [sdf] = source<null, Order>('orders')
    const seen: number[] = []
    sdf.update((order) => seen.push(order.id)).column('amount').toTopic({ name: 'amounts' })
    run('orders', orders.map((value) => ({ value })))
    assert.deepEqual(seen, [1, 2, 3])
    assert.deepEqual(sent.map((record) => record.value), [30, 5, 12])
  })

  test('setKey, setTimestamp and setHeaders change what later steps and outputs see', () => {
    const { sent, run, source } = harness()
    const [sdf] = source<null, Order>('orders')
    const trace = new Map([['trace', Buffer.from('t-1')]])
    sdf
      .setKey((order) => order.customer)
      .setTimestamp((order) => order.id * 1000)
      .setHeaders(() => trace)
      .filter((_order, meta) => meta.key === 'ada' && meta.timestamp > 1000)
      .toTopic({ name: 'out' }, { key: (order, meta) => `${meta.key}/${order.id}` })
    run('orders', orders.map((value) => ({ value })))
    assert.deepEqual(sent.map(({ key, timestamp, headers }) => ({ key, timestamp, trace: headers.get('trace')?.toString() })), [
      { key: 'ada/3', timestamp: 3000, trace: 't-1' },
    ])
  })

  test('print writes each record with its metadata and passes it on', () => {
    const { sent, run, source } = harness()
    const [sdf] = source<string, Order>('orders')
    const lines: string[] = []
    sdf.print({ write: (line) => lines.push(line) }).toTopic({ name: 'out' })
    run('orders', [{ value: orders[0], key: 'ada' }])
    assert.equal(lines.length, 1)
    assert.match(lines[0] ?? '', /customer: 'ada'.*key: 'ada'.*topic: 'orders'.*offset: 0n/)
    assert.equal(sent.length, 1)
  })
})

describe('branching, concat and groupBy', () => {
  test('each branch of one dataframe sees every record; a branch does not change another', () => {
    const { sent, run, source } = harness()
    const [sdf] = source<null, Order>('orders')
    sdf.filter((order) => order.customer === 'ada').toTopic({ name: 'ada' })
    sdf.withColumn('amount', (order) => order.amount * 100).toTopic({ name: 'cents' })
    sdf.toTopic({ name: 'all' })
    run('orders', orders.map((value) => ({ value })))
    const byTopic = (name: string) => sent.filter((record) => record.topic === name).map((record) => record.value)
    assert.deepEqual(byTopic('ada'), [orders[0], orders[2]])
    assert.deepEqual(byTopic('cents').map((order) => (order as Order).amount), [3000, 500, 1200])
    assert.deepEqual(byTopic('all'), orders, 'the original values are untouched by the other branch')
  })

  test('concat merges the records of two topics into one pipeline', () => {
    const { sent, run, source } = harness()
    const [eu] = source<null, Order>('orders-eu')
    const [us] = source<null, Order>('orders-us')
    eu.concat(us).apply((order) => order.id).toTopic({ name: 'ids' })
    run('orders-eu', [{ value: orders[0] }])
    run('orders-us', [{ value: orders[1] }, { value: orders[2] }])
    assert.deepEqual(sent.map((record) => record.value), [1, 2, 3])
  })

  test('groupBy sends records to the repartition topic by the new key; later steps read from it', () => {
    const { topology, sent, run, source } = harness()
    const [sdf] = source<null, Order>('orders')
    sdf.groupBy('customer').apply((order, meta) => `${meta.key}:${order.amount}`).toTopic({ name: 'by-customer' })
    assert.deepEqual([...topology.repartitionTopics.keys()], ['app-repartition-customer'])
    run('orders', orders.map((value) => ({ value })))
    assert.deepEqual(sent.map(({ topic, key }) => [topic, key]), [
      ['app-repartition-customer', 'ada'],
      ['app-repartition-customer', 'bob'],
      ['app-repartition-customer', 'ada'],
    ])
    sent.length = 0
    run('app-repartition-customer', orders.map((value) => ({ value, key: value.customer })))
    assert.deepEqual(sent.map((record) => record.value), ['ada:30', 'bob:5', 'ada:12'])
  })

  test('groupBy by a function needs a stable name', () => {
    const { source } = harness()
    const [sdf] = source<null, Order>('orders')
    assert.throws(() => sdf.groupBy((order) => order.id % 2, { name: '' }), /needs options.name/)
    sdf.groupBy((order) => order.id % 2, { name: 'parity' })
    assert.throws(() => sdf.groupBy((order) => order.id % 3, { name: 'parity' }), /Two groupBy steps are named "parity"/)
  })
})

test('types flow through the steps: wrong columns and wrong output types do not compile', () => {
  const { source } = harness()
  const [sdf] = source<string, Order>('orders')
  const amounts: Topic<string, number> = { name: 'amounts' }
  // @ts-expect-error -- 'amout' is not a column of Order
  sdf.filter((order) => order.amout > 0)
  // @ts-expect-error -- select names only existing columns
  sdf.select('id', 'nope')
  // @ts-expect-error -- a topic of numbers does not take Order records
  sdf.toTopic(amounts)
  sdf.column('amount').toTopic(amounts)
  const withVat = sdf.withColumn('vat', (order) => order.amount * 0.2)
  withVat.filter((order) => order.vat > order.amount)
})
