/**
 * The connection options every Sluice Kafka client shares: where the brokers are, and how to
 * authenticate (SASL PLAIN / SCRAM, TLS).
 */
import type { ConnectionOptions as TlsOptions } from 'node:tls'

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
    retries: 3,
    ...(options.tls === undefined ? {} : { tls: options.tls === true ? {} : options.tls }),
    ...(options.sasl === undefined ? {} : { sasl: { ...options.sasl } }),
  }
}

/** The secrets of these options, for redaction. */
export function secretsOf(options: KafkaConnectionOptions): string[] {
  return options.sasl === undefined ? [] : [options.sasl.password]
}
