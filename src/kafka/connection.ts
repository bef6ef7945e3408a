/**
 * The connection options every Sluice Kafka client shares: where the brokers are, and how to
 * authenticate (SASL PLAIN / SCRAM, TLS).
 */
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import { protocolErrorNames } from './errors.ts'

export interface SaslOptions {
  mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'
  username: string
  /** Never logged: error messages replace it with ***. */
  password: string
}

export interface KafkaConnectionOptions {
  /** `host:port` of one or more brokers, e.g. `['127.0.0.1:9092']`. */
  brokers: string[]
  /** Shows up in broker logs and quotas. Default `sluice`. */
  clientId?: string
  /** TLS options (`true` for the system's CAs). */
  tls?: TlsOptions | true
  sasl?: SaslOptions
  /** Connection set-up timeout in ms. Default 5000. */
  connectTimeout?: number
  /** Per-request timeout in ms. Default 30000. */
  requestTimeout?: number
}

/** The options of the underlying client for these connection options. */
export function clientConnection(options: KafkaConnectionOptions, role: string) {
  if (options.brokers.length === 0) {
    throw new TypeError(`${role}: options.brokers is empty; give at least one "host:port"`)
  }
  return {
    clientId: options.clientId ?? 'sluice',
    bootstrapBrokers: options.brokers,
    connectTimeout: options.connectTimeout ?? 5000,
    timeout: options.requestTimeout ?? 30_000,
    retries: 10,
    retryDelay,
    ...(options.tls === undefined ? {} : { tls: options.tls === true ? {} : options.tls }),
    ...(options.sasl === undefined ? {} : { sasl: { ...options.sasl } }),
  }
}

/** The secrets of these options, for redaction. */
export function secretsOf(options: KafkaConnectionOptions): string[] {
  return options.sasl === undefined ? [] : [options.sasl.password]
}

/**
 * How long the client waits before retrying a failed request. A transaction's first send right
 * after the previous commit is often refused with CONCURRENT_TRANSACTIONS while the coordinator
 * writes the commit markers, for a few milliseconds: retrying that after the client's default
 * 1 s (as 2.12 does) stalled every other exactly-once checkpoint by a second. The Java client
 * retries it after 20 ms; so does Sluice. Everything else backs off exponentially from 100 ms
 * to 1 s, like the Java client's retry.backoff.ms / retry.backoff.max.ms.
 */
function retryDelay(_client: unknown, _operation: string, attempt: number, _retries: number, error: unknown): number {
  if (protocolErrorNames(error).includes('CONCURRENT_TRANSACTIONS')) return 20
  return Math.min(1000, 100 * 2 ** (attempt - 1))
}

/** Just the connection options of a larger options object (an Application's, a connector's). */
export function connectionOptionsOf(options: KafkaConnectionOptions, defaultClientId: string): KafkaConnectionOptions {
  const { brokers, clientId, tls, sasl, connectTimeout, requestTimeout } = options
  return {
    brokers,
    clientId: clientId ?? defaultClientId,
    ...(tls === undefined ? {} : { tls }),
    ...(sasl === undefined ? {} : { sasl }),
    ...(connectTimeout === undefined ? {} : { connectTimeout }),
    ...(requestTimeout === undefined ? {} : { requestTimeout }),
  }
}
