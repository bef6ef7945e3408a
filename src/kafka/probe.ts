import { Admin } from '@platformatic/kafka'

/**
 * Asks the brokers for cluster metadata once. Resolves true when at least one broker answers and
 * lists itself as available (a KRaft broker that is still fenced lists no brokers), false otherwise.
 * Never throws: it is meant to be polled while a broker starts.
 */
export async function probeBrokers(bootstrapBrokers: string[], timeoutMs = 2000): Promise<boolean> {
  const admin = new Admin({
    clientId: 'sluice-probe',
    bootstrapBrokers,
    connectTimeout: timeoutMs,
    timeout: timeoutMs,
    retries: 0,
  })
  try {
    const metadata = await admin.metadata({ topics: [], forceUpdate: true })
    return metadata.brokers.size > 0
  } catch {
    return false
  } finally {
    await admin.close().catch(() => undefined)
  }
}
