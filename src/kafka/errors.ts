/**
 * Turns the Kafka client's errors into SluiceErrors that say what to do.
 */
import { MultipleErrors, NetworkError, AuthenticationError, TimeoutError } from '@platformatic/kafka'
import { redactSecrets, SluiceError, type SluiceErrorCode } from '../errors.ts'

/** Kafka protocol error names (as the broker returns them) that mean "this producer was fenced". */
const FENCED = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED'])
const UNKNOWN_TOPIC = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID'])

export function wrapKafkaError(error: unknown, what: string, code: SluiceErrorCode, secrets: string[], brokers: string[]): SluiceError {
  if (error instanceof SluiceError) return error
  const names = protocolErrorNames(error)
  const detail = redactSecrets(describe(error), secrets)
  if (names.some((name) => FENCED.has(name))) {
    return new SluiceError('KAFKA_FENCED', `${what}: this producer was fenced — another instance with the same transactional id started (${detail})`, {
      fix: 'Make sure only one instance runs with this transactional id; this instance must stop, its open transaction is aborted.',
      cause: error,
    })
  }
  if (names.some((name) => UNKNOWN_TOPIC.has(name))) {
    return new SluiceError('KAFKA_TOPIC', `${what}: the topic does not exist (${detail})`, {
      fix: 'Create the topic first (admin.createTopics), or check its name.',
      cause: error,
    })
  }
  if (error instanceof AuthenticationError || names.some((name) => name.includes('SASL') || name.includes('AUTHORIZATION'))) {
    return new SluiceError('KAFKA_AUTH', `${what}: the broker refused the credentials or the permission (${detail})`, {
      fix: 'Check the SASL mechanism, username and password, and the ACLs of this principal.',
      cause: error,
    })
  }
  if (error instanceof NetworkError || error instanceof TimeoutError || hasNetworkCause(error)) {
    return new SluiceError('KAFKA_CONNECT', `${what}: cannot reach the Kafka brokers ${brokers.join(',')} (${detail})`, {
      fix: 'Check the bootstrap address and that the broker runs (`npm run kafka -- start` starts a local one).',
      cause: error,
      retriable: true,
    })
  }
  return new SluiceError(code, `${what} failed: ${detail}`, { fix: 'See the cause; retry if the broker was restarting.', cause: error })
}

/** The Kafka protocol error names (e.g. `NOT_LEADER_OR_FOLLOWER`) anywhere in a client error. */
export function protocolErrorNames(error: unknown): string[] {
  const names: string[] = []
  const visit = (value: unknown, depth: number): void => {
    if (depth > 6 || typeof value !== 'object' || value === null) return
    const record = value as { apiId?: unknown; errors?: unknown; cause?: unknown }
    if (typeof record.apiId === 'string') names.push(record.apiId)
    if (Array.isArray(record.errors)) for (const inner of record.errors) visit(inner, depth + 1)
    if (record.cause !== undefined) visit(record.cause, depth + 1)
  }
  visit(error, 0)
  return names
}

function hasNetworkCause(error: unknown): boolean {
  if (error instanceof MultipleErrors) return error.errors.some((inner) => inner instanceof NetworkError || inner instanceof TimeoutError || hasNetworkCause(inner))
  const code = (error as { code?: unknown } | null)?.code
  return code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH'
}

function describe(error: unknown): string {
  if (error instanceof MultipleErrors) {
    // One failed request per partition often repeats the same broker error: say each once, with a count.
    const counts = new Map<string, number>()
    for (const item of error.errors as unknown[]) {
      const text = describe(item)
      if (text.length > 0) counts.set(text, (counts.get(text) ?? 0) + 1)
    }
    const inner = [...counts].map(([text, count]) => (count > 1 ? `${text} (×${count})` : text))
    return inner.length > 0 ? `${error.message}: ${inner.join('; ')}` : error.message
  }
  return error instanceof Error ? error.message : String(error)
}

/** Broker errors that mean "this consumer is no longer the group member that read these messages". */
const MEMBERSHIP_LOST = new Set(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'FENCED_MEMBER_EPOCH', 'STALE_MEMBER_EPOCH'])

/**
 * True when an offset commit (plain or transactional) was refused because the group rebalanced
 * since the messages were read: the work must be given up and the partitions read again from
 * their committed offsets. This is how Kafka fences a consumer that lost its partitions.
 */
export function isGroupMembershipLost(error: unknown): boolean {
  return protocolErrorNames(error instanceof SluiceError && error.cause !== undefined ? error.cause : error).some((name) => MEMBERSHIP_LOST.has(name))
}
