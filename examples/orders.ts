/**
 * The README's example pipeline: big orders, in euros, keyed by customer, exactly once.
 * Run it against a broker: `KAFKA_BROKERS=127.0.0.1:9092 npx node examples/orders.ts`
 * (`npm run kafka -- start` starts one), then produce JSON orders to the "orders" topic.
 */
import { Application, int64, json } from 'sluice'

interface Order {
  id: string
  customer: string
  amount: number
  currency: 'EUR' | 'USD'
}

const app = new Application({
  brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  applicationId: 'big-orders',
  processingGuarantee: 'exactly-once', // the default
  commitIntervalMs: 1000,
})

const orders = app.topic<string, Order>('orders', {
  value: json<Order>(),
  config: { partitions: 6 },
  onError: { deadLetterTopic: 'orders-dlq' }, // bad JSON or a failing step: parked with the reason, not lost
})
const bigOrders = app.topic<string, Order & { amountEur: number }>('big-orders', { config: { partitions: 6 } })
const ordersPerCustomer = app.topic<string, bigint>('orders-per-customer', { value: int64 })

const eur = app
  .dataframe(orders)
  .filter((order) => order.amount > 0)
  .withColumn('amountEur', (order) => (order.currency === 'USD' ? order.amount * 0.92 : order.amount))

// Branch 1: big orders, re-keyed by customer, with a header saying where they came from.
eur
  .filter((order) => order.amountEur >= 100)
  .setKey((order) => order.customer)
  .setHeaders((_, meta) => new Map([['source', Buffer.from(`${meta.topic}/${meta.partition}/${meta.offset}`)]]))
  .toTopic(bigOrders)

// Branch 2: every order, grouped by customer (through a repartition topic), one marker each.
eur
  .groupBy('customer')
  .apply(() => 1n)
  .toTopic(ordersPerCustomer)

await app.run() // until Ctrl-C / SIGTERM; then a last checkpoint and a clean close
