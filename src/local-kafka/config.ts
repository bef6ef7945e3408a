/**
 * The configuration files of a single-node KRaft broker (combined broker and controller) for
 * development and tests: loopback only, replication factor 1 everywhere so that transactions and
 * consumer groups work on one node.
 */
import { randomBytes } from 'node:crypto'

export interface BrokerLayout {
  port: number
  controllerPort: number
  /** Where Kafka keeps its log segments and KRaft metadata. */
  logDirs: string
  /** The broker's own log file. */
  logFile: string
}

export function serverProperties(layout: BrokerLayout): string {
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${layout.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${layout.port},CONTROLLER://127.0.0.1:${layout.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${layout.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': layout.logDirs,
    // One node: every internal topic must accept a single replica, or transactions and groups hang.
    'offsets.topic.replication.factor': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    // Fewer internal partitions than the production default of 50: the first group or transaction
    // of a fresh broker then starts in well under a second.
    'offsets.topic.num.partitions': 5,
    'transaction.state.log.num.partitions': 5,
    // No rebalance delay: a test's consumer group forms at once.
    'group.initial.rebalance.delay.ms': 0,
    // Sluice creates the topics it needs; a typo in a topic name must fail, not create a topic.
    'auto.create.topics.enable': false,
  }
  return `${Object.entries(settings).map(([key, value]) => `${key}=${value}`).join('\n')}\n`
}

export function log4jProperties(logFile: string): string {
  return [
    'rootLogger.level=INFO',
    'rootLogger.appenderRef.file.ref=file',
    'appender.file.type=File',
    'appender.file.name=file',
    `appender.file.fileName=${logFile}`,
    'appender.file.layout.type=PatternLayout',
    'appender.file.layout.pattern=[%d] %p %m (%c)%n',
    // The controller's and request loggers are very chatty at INFO.
    'logger.kafkaController.name=kafka.controller',
    'logger.kafkaController.level=WARN',
    'logger.stateChange.name=state.change.logger',
    'logger.stateChange.level=WARN',
    '',
  ].join('\n')
}

/** A KRaft cluster id: 16 random bytes in URL-safe base64 without padding, as `kafka-storage random-uuid` prints. */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    // Kafka refuses ids that start with '-' (they read as command-line flags).
    if (!id.startsWith('-')) return id
  }
}
