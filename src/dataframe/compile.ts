/**
 * Turns a Topology into one plain function per source topic. Each step becomes a closure that calls
 * the next one directly: no per-record promises, arrays or step dispatch, just the calls a
 * hand-written loop would make. Outputs go to a RecordSink, which the Application backs with the
 * current checkpoint's producer batch.
 */
import type { KeyedState, PartitionStore } from '../state/index.ts'
import { WindowedAggregation, type LateRecordLogger } from '../windows/index.ts'
import type { Headers, RecordMetadata } from './metadata.ts'
import type { Step, StepNode, Topology } from './graph.ts'
import type { Topic } from './topic.ts'

export interface RecordSink {
  /** Queues one output record for the current checkpoint. */
  send(topic: Topic<unknown, unknown>, key: unknown, value: unknown, timestamp: number, headers: Headers): void
}

/** How stateful and window steps reach their stores; the Application opens and restores them per assigned partition. */
export interface StateAccess {
  /** The open, restored store `name` of one source topic partition. */
  store(name: string, topic: string, partition: number): PartitionStore
  /** Receives the late-record lines of window steps. */
  logger?: LateRecordLogger
}

export type RecordHandler = (value: unknown, meta: RecordMetadata<unknown>) => void

const ignore: RecordHandler = () => undefined

/** One handler per source topic name (including repartition topics), running every pipeline on that topic. */
export function compileTopology(topology: Topology, sink: RecordSink, state?: StateAccess): Map<string, RecordHandler> {
  if (topology.stores.size > 0 && state === undefined) throw new TypeError('compileTopology: the topology has stateful steps, pass a StateAccess')
  const compiled = new Map<StepNode, RecordHandler>()
  const compileNode = (node: StepNode): RecordHandler => {
    let handler = compiled.get(node)
    if (handler === undefined) {
      handler = compileStep(node, fanOut(node.children.map(compileNode)), sink, state as StateAccess)
      compiled.set(node, handler)
    }
    return handler
  }
  const handlers = new Map<string, RecordHandler>()
  for (const [topicName, roots] of topology.sources) handlers.set(topicName, fanOut(roots.map(compileNode)))
  return handlers
}

/** Calls every branch in order with the same record. */
function fanOut(handlers: RecordHandler[]): RecordHandler {
  if (handlers.length === 0) return ignore
  if (handlers.length === 1) return handlers[0] as RecordHandler
  return (value, meta) => {
    for (const handler of handlers) handler(value, meta)
  }
}

/** The state stores each source topic's records reach (before any repartition), by topic name. */
export function storesOfSources(topology: Topology): Map<string, Set<string>> {
  const result = new Map<string, Set<string>>()
  for (const [topicName, roots] of topology.sources) {
    const stores = new Set<string>()
    const seen = new Set<StepNode>()
    const visit = (node: StepNode) => {
      if (seen.has(node)) return
      seen.add(node)
      if (node.step.kind === 'stateful' || node.step.kind === 'window') stores.add(node.step.store)
      for (const child of node.children) visit(child)
    }
    for (const root of roots) visit(root)
    if (stores.size > 0) result.set(topicName, stores)
  }
  return result
}

function compileStep(node: StepNode, next: RecordHandler, sink: RecordSink, state: StateAccess): RecordHandler {
  const step = node.step
  switch (step.kind) {
    case 'source':
    case 'concat':
      return next
    case 'filter': {
      const predicate = step.predicate
      return (value, meta) => {
        if (predicate(value, meta)) next(value, meta)
      }
    }
    case 'apply': {
      const fn = step.fn
      return (value, meta) => next(fn(value, meta), meta)
    }
    case 'expand': {
      const fn = step.fn
      return (value, meta) => {
        for (const item of fn(value, meta)) next(item, meta)
      }
    }
    case 'update': {
      const fn = step.fn
      return (value, meta) => {
        fn(value, meta)
        next(value, meta)
      }
    }
    case 'setKey': {
      const fn = step.fn
      return (value, meta) => next(value, { ...meta, key: fn(value, meta) })
    }
    case 'setTimestamp': {
      const fn = step.fn
      return (value, meta) => next(value, { ...meta, timestamp: fn(value, meta) })
    }
    case 'setHeaders': {
      const fn = step.fn
      return (value, meta) => next(value, { ...meta, headers: fn(value, meta) })
    }
    case 'toTopic': {
      const { topic, key } = step
      return (value, meta) => {
        sink.send(topic, key === undefined ? meta.key : key(value, meta), value, meta.timestamp, meta.headers)
        next(value, meta)
      }
    }
    case 'stateful':
      return compileStateful(step, next, state)
    case 'window':
      return compileWindow(step, next, state)
    case 'repartition': {
      // Records continue from the repartition topic's own source node, on the partition of their new key.
      const { topic, key } = step
      return (value, meta) => sink.send(topic, key(value, meta), value, meta.timestamp, meta.headers)
    }
  }
}

/** A stateful step: `fn` gets the state of the record's key in the step's store for the record's partition. */
function compileStateful(step: Extract<Step, { kind: 'stateful' }>, next: RecordHandler, access: StateAccess): RecordHandler {
  const { fn, store: name } = step
  const views = new WeakMap<PartitionStore, KeyedState>()
  const stateOf = (meta: RecordMetadata<unknown>): KeyedState => {
    const store = access.store(name, meta.topic, meta.partition)
    let view = views.get(store)
    if (view === undefined) views.set(store, (view = store.keyedState()))
    return view.at(meta.key)
  }
  switch (step.mode) {
    case 'apply':
      return (value, meta) => next(fn(value, stateOf(meta), meta), meta)
    case 'expand':
      return (value, meta) => {
        for (const item of fn(value, stateOf(meta), meta) as Iterable<unknown>) next(item, meta)
      }
    case 'update':
      return (value, meta) => {
        fn(value, stateOf(meta), meta)
        next(value, meta)
      }
    case 'filter':
      return (value, meta) => {
        if (fn(value, stateOf(meta), meta) === true) next(value, meta)
      }
  }
}

/**
 * A window step: one engine per store partition. Its results continue as records keyed by the
 * window's key, timestamped with the window's start.
 */
function compileWindow(step: Extract<Step, { kind: 'window' }>, next: RecordHandler, access: StateAccess): RecordHandler {
  const { store: name, windows, aggregator, emit } = step
  const timestampOf = step.timestamp ?? ((_value: unknown, meta: RecordMetadata<unknown>) => meta.timestamp)
  const engines = new WeakMap<PartitionStore, WindowedAggregation<unknown, unknown, unknown>>()
  return (value, meta) => {
    const store = access.store(name, meta.topic, meta.partition)
    let engine = engines.get(store)
    if (engine === undefined) {
      engine = new WindowedAggregation({ store, windows, aggregator, emit, ...(access.logger === undefined ? {} : { logger: access.logger }) })
      engines.set(store, engine)
    }
    for (const result of engine.process(meta.key, value, timestampOf(value, meta))) next(result, { ...meta, key: result.key, timestamp: result.start })
  }
}
