/**
 * Turns a Topology into one plain function per source topic. Each step becomes a closure that calls
 * the next one directly: no per-record promises, arrays or step dispatch, just the calls a
 * hand-written loop would make. Outputs go to a RecordSink, which the Application backs with the
 * current checkpoint's producer batch.
 */
import type { Headers, RecordMetadata } from './metadata.ts'
import type { StepNode, Topology } from './graph.ts'
import type { Topic } from './topic.ts'

export interface RecordSink {
  /** Queues one output record for the current checkpoint. */
  send(topic: Topic<unknown, unknown>, key: unknown, value: unknown, timestamp: number, headers: Headers): void
}

export type RecordHandler = (value: unknown, meta: RecordMetadata<unknown>) => void

const ignore: RecordHandler = () => undefined

/** One handler per source topic name (including repartition topics), running every pipeline on that topic. */
export function compileTopology(topology: Topology, sink: RecordSink): Map<string, RecordHandler> {
  const compiled = new Map<StepNode, RecordHandler>()
  const compileNode = (node: StepNode): RecordHandler => {
    let handler = compiled.get(node)
    if (handler === undefined) {
      handler = compileStep(node, fanOut(node.children.map(compileNode)), sink)
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

function compileStep(node: StepNode, next: RecordHandler, sink: RecordSink): RecordHandler {
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
    case 'repartition': {
      // Records continue from the repartition topic's own source node, on the partition of their new key.
      const { topic, key } = step
      return (value, meta) => sink.send(topic, key(value, meta), value, meta.timestamp, meta.headers)
    }
  }
}
