/**
 * The lazy description of a processing topology: a graph of steps, built by StreamingDataFrame
 * calls and compiled into plain functions when the Application starts. A step with several
 * children is a branch point (each child sees every record); a step with several parents is a
 * concat (it sees the records of all of them).
 */
import type { KeyedState } from '../state/index.ts'
import type { Aggregator, EmitMode, WindowDefinition } from '../windows/index.ts'
import type { Headers, RecordMetadata } from './metadata.ts'
import type { Topic } from './topic.ts'

/* eslint-disable @typescript-eslint/no-explicit-any -- the graph is untyped inside; StreamingDataFrame types every edge. */
type AnyMeta = RecordMetadata<any>

export type Step =
  | { readonly kind: 'source'; readonly topic: Topic<unknown, unknown> }
  | { readonly kind: 'filter'; readonly predicate: (value: any, meta: AnyMeta) => boolean }
  | { readonly kind: 'apply'; readonly fn: (value: any, meta: AnyMeta) => any }
  | { readonly kind: 'expand'; readonly fn: (value: any, meta: AnyMeta) => Iterable<any> }
  | { readonly kind: 'update'; readonly fn: (value: any, meta: AnyMeta) => void }
  | { readonly kind: 'setKey'; readonly fn: (value: any, meta: AnyMeta) => any }
  | { readonly kind: 'setTimestamp'; readonly fn: (value: any, meta: AnyMeta) => number }
  | { readonly kind: 'setHeaders'; readonly fn: (value: any, meta: AnyMeta) => Headers }
  | { readonly kind: 'toTopic'; readonly topic: Topic<unknown, unknown>; readonly key: ((value: any, meta: AnyMeta) => any) | undefined }
  | { readonly kind: 'repartition'; readonly topic: Topic<unknown, unknown>; readonly key: (value: any, meta: AnyMeta) => any }
  | { readonly kind: 'concat' }
  | {
      readonly kind: 'stateful'
      readonly mode: 'apply' | 'expand' | 'update' | 'filter'
      readonly store: string
      readonly fn: (value: any, state: KeyedState, meta: AnyMeta) => any
    }
  | {
      readonly kind: 'window'
      readonly store: string
      readonly windows: WindowDefinition
      readonly aggregator: Aggregator<any, any, any>
      readonly emit: EmitMode
      readonly timestamp: ((value: any, meta: AnyMeta) => number) | undefined
    }
/* eslint-enable @typescript-eslint/no-explicit-any */

export class StepNode {
  readonly step: Step
  readonly children: StepNode[] = []

  constructor(step: Step, parents: readonly StepNode[]) {
    this.step = step
    for (const parent of parents) parent.children.push(this)
  }
}

/** Every source of a topology, by topic name; a repartition (groupBy) adds the topic it reads back. */
export class Topology {
  readonly sources = new Map<string, StepNode[]>()
  /** Topics groupBy steps write to and read back from, which the Application must create. */
  readonly repartitionTopics = new Map<string, Topic<unknown, unknown>>()
  /** The state stores of stateful and window steps, by name. Several stateful steps may share one; a window step has its own. */
  readonly stores = new Map<string, 'keyed' | 'window'>()
  readonly #repartitionPrefix: string

  /** @param repartitionPrefix starts the name of every repartition topic, e.g. `<application id>-repartition-`. */
  constructor(repartitionPrefix: string) {
    this.#repartitionPrefix = repartitionPrefix
  }

  addRepartition(groupName: string): Topic<unknown, unknown> {
    const name = `${this.#repartitionPrefix}${groupName}`
    if (this.repartitionTopics.has(name)) {
      throw new TypeError(`Two groupBy steps are named "${groupName}": give each its own options.name`)
    }
    const topic: Topic<unknown, unknown> = { name }
    this.repartitionTopics.set(name, topic)
    return topic
  }

  /** Registers a state store name; a window step's store is its own, named once. */
  addStore(name: string, use: 'keyed' | 'window'): void {
    const existing = this.stores.get(name)
    if (existing === 'window' || (existing === 'keyed' && use === 'window')) {
      throw new TypeError(`State store "${name}" is used by two steps, one of them a window: give each window its own options.name`)
    }
    this.stores.set(name, use)
  }

  addSource(topic: Topic<unknown, unknown>): StepNode {
    const node = new StepNode({ kind: 'source', topic }, [])
    const nodes = this.sources.get(topic.name) ?? []
    nodes.push(node)
    this.sources.set(topic.name, nodes)
    return node
  }
}
