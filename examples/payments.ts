/** The README's state and windows example: running totals per customer and 10 s windows of payments. */
import { Application, count, mean, sum, type WindowResult } from 'sluice'

interface Payment { customer: string; amount: number; at: number }

const app = new Application({ brokers: ['127.0.0.1:9092'], applicationId: 'payments', stateDir: './state' })
const payments = app.dataframe(app.topic<string, Payment>('payments'))

// Running total per customer: `state` is the state of the current record's key.
payments
  .groupBy('customer')
  .apply((payment, state) => {
    const total = state.get('total', 0) + payment.amount
    state.set('total', total)
    return { ...payment, total }
  }, { stateful: true })
  .toTopic(app.topic<string, Payment & { total: number }>('running-totals'))

// Per customer and 10 s of event time: count, sum and mean, emitted once when the window closes.
payments
  .groupBy('customer')
  .tumblingWindow(10_000, { grace: 2_000, timestampExtractor: (payment) => payment.at })
  .agg({ n: count(), total: sum('amount'), average: mean('amount') })
  .final()                                   // or .current(): on every update
  .filter((window) => window.value.n >= 3)   // results are ordinary records
  .toTopic(app.topic<string, WindowResult<string, { n: number; total: number; average: number | null }>>('payments-10s'))

await app.run()
