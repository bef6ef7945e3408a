/**
 * StreamingDataFrame: the typed, lazy pipeline users write. Every call returns a new dataframe
 * and records a step; nothing runs until the Application compiles the topology and starts
 * consuming. The value type `V` and key type `K` flow through every step, so a misspelt column or
 * a wrong type is a compile error, not a run-time surprise.
 */
import { inspect } from 'node:util'
import { hopping, session, sliding, tumbling, type Aggregator, type EmitMode, type WindowDefinition } from '../windows/index.ts'
import { StepNode, type Step, type Topology } from './graph.ts'
import type { Headers, RecordMetadata } from './metadata.ts'
import type { Topic } from './topic.ts'
import { WindowedDataFrame, type WindowResult, type WindowStepOptions } from './windowed.ts'

/** A function of the record: its value and the metadata of the message it came from. */
export type RecordFunction<V, K, R> = (value: V, meta: RecordMetadata<K>) => R

/**
 * The state of the current record's message key in a stateful step's store: `state.get('total', 0)`
 * reads this key's 'total'. Values must suit the store's codec (plain JSON data by default). Writes
 * are committed with the checkpoint (and its changelog records), or dropped with it.
 */
export interface State {
  get<T = unknown>(name: string): T | undefined
  get<T>(name: string, defaultValue: T): T
  set(name: string, value: unknown): void
  delete(name: string): void
  has(name: string): boolean
}

/** A function of the record and of its key's state. */
export type StatefulFunction<V, K, R> = (value: V, state: State, meta: RecordMetadata<K>) => R

export interface StatefulOptions {
  stateful: true
  /** The store the state lives in; steps naming the same store share it. Default 'default'. */
  store?: string
}

export interface PrintOptions {
  /** Also print key, timestamp, topic, partition and offset. Default true. */
  metadata?: boolean
  /** Where lines go. Default `console.log`. */
  write?: (line: string) => void
}

export class StreamingDataFrame<V, K = unknown> {
  readonly #topology: Topology
  readonly #node: StepNode

  /** @internal Dataframes come from `app.dataframe(topic)`, not from this constructor. */
  constructor(topology: Topology, node: StepNode) {
    this.#topology = topology
    this.#node = node
  }

  /** Keeps the records for which `predicate` is true. A type guard narrows the value type. */
  filter<U extends V>(predicate: (value: V, meta: RecordMetadata<K>) => value is U): StreamingDataFrame<U, K>
  filter(predicate: RecordFunction<V, K, boolean>): StreamingDataFrame<V, K>
  /** With `{ stateful: true }` the predicate also gets the state of the record's key. */
  filter(predicate: StatefulFunction<V, K, boolean>, options: StatefulOptions): StreamingDataFrame<V, K>
  filter(predicate: RecordFunction<V, K, boolean> | StatefulFunction<V, K, boolean>, options?: StatefulOptions): StreamingDataFrame<V, K> {
    if (options?.stateful === true) return this.#thenStateful('filter', predicate as StatefulFunction<V, K, boolean>, options)
    return this.#then({ kind: 'filter', predicate: predicate as RecordFunction<V, K, boolean> })
  }

  /**
   * Replaces each value with what `fn` returns. With `{ expand: true }` `fn` returns an iterable
   * and each of its items continues as a record of its own (one-to-many), with the same metadata.
   */
  apply<U>(fn: RecordFunction<V, K, Iterable<U>>, options: { expand: true; stateful?: false }): StreamingDataFrame<U, K>
  apply<U>(fn: RecordFunction<V, K, U>, options?: { expand?: false; stateful?: false }): StreamingDataFrame<U, K>
  /** With `{ stateful: true }`, `fn(value, state, meta)` also gets the state of the record's key. */
  apply<U>(fn: StatefulFunction<V, K, Iterable<U>>, options: StatefulOptions & { expand: true }): StreamingDataFrame<U, K>
  apply<U>(fn: StatefulFunction<V, K, U>, options: StatefulOptions & { expand?: false }): StreamingDataFrame<U, K>
  apply<U>(fn: RecordFunction<V, K, U | Iterable<U>> | StatefulFunction<V, K, U | Iterable<U>>, options?: { expand?: boolean; stateful?: boolean; store?: string }): StreamingDataFrame<U, K> {
    const expand = options?.expand === true
    if (options?.stateful === true) return this.#thenStateful(expand ? 'expand' : 'apply', fn as StatefulFunction<V, K, unknown>, options as StatefulOptions)
    const plain = fn as RecordFunction<V, K, U | Iterable<U>>
    return expand ? this.#then({ kind: 'expand', fn: plain as RecordFunction<V, K, Iterable<U>> }) : this.#then({ kind: 'apply', fn: plain })
  }

  /** Runs `fn` for its side effect (logging, counting, mutating the value in place); the record passes on. */
  update(fn: RecordFunction<V, K, void>): StreamingDataFrame<V, K>
  /** With `{ stateful: true }`, `fn(value, state, meta)` also gets the state of the record's key. */
  update(fn: StatefulFunction<V, K, void>, options: StatefulOptions): StreamingDataFrame<V, K>
  update(fn: RecordFunction<V, K, void> | StatefulFunction<V, K, void>, options?: StatefulOptions): StreamingDataFrame<V, K> {
    if (options?.stateful === true) return this.#thenStateful('update', fn as StatefulFunction<V, K, void>, options)
    return this.#then({ kind: 'update', fn: fn as RecordFunction<V, K, void> })
  }

  /** The values of one column of object records. */
  column<C extends keyof V>(name: C): StreamingDataFrame<V[C], K> {
    return this.#then({ kind: 'apply', fn: (value: V) => value[name] })
  }

  /** Sets (adds or replaces) one column of object records, as a new object: other branches keep the old value. */
  withColumn<C extends string, U>(name: C, fn: RecordFunction<V, K, U>): StreamingDataFrame<Omit<V, C> & { [P in C]: U }, K> {
    return this.#then({ kind: 'apply', fn: (value: V, meta: RecordMetadata<K>) => ({ ...value, [name]: fn(value, meta) }) })
  }

  /** Keeps only the named columns of object records. */
  select<C extends keyof V>(...names: C[]): StreamingDataFrame<Pick<V, C>, K> {
    return this.#then({
      kind: 'apply',
      fn: (value: V) => {
        const picked = {} as Pick<V, C>
        for (const name of names) picked[name] = value[name]
        return picked
      },
    })
  }

  /** Changes the message key for the following steps and outputs (the record stays on its partition; see groupBy). */
  setKey<K2>(fn: RecordFunction<V, K, K2>): StreamingDataFrame<V, K2> {
    return this.#then({ kind: 'setKey', fn })
  }

  /** Changes the record's timestamp (ms since the epoch) for the following steps and outputs. */
  setTimestamp(fn: RecordFunction<V, K, number>): StreamingDataFrame<V, K> {
    return this.#then({ kind: 'setTimestamp', fn })
  }

  /** Replaces the record's headers for the following steps and outputs. */
  setHeaders(fn: RecordFunction<V, K, Headers>): StreamingDataFrame<V, K> {
    return this.#then({ kind: 'setHeaders', fn })
  }

  /**
   * Produces each record to `topic`, keyed by the current key or by `options.key`, within the
   * current checkpoint (one transaction under exactly-once). The record also continues downstream.
   */
  toTopic<KT = K>(topic: Topic<KT, V>, options?: { key?: RecordFunction<V, K, KT> }): StreamingDataFrame<V, K> {
    return this.#then({ kind: 'toTopic', topic, key: options?.key })
  }

  /** Prints each record as it passes (for development). */
  print(options: PrintOptions = {}): StreamingDataFrame<V, K> {
    const write = options.write ?? ((line: string) => console.log(line))
    const withMetadata = options.metadata ?? true
    return this.update((value, meta) => {
      const shown = withMetadata
        ? { value, key: meta.key, timestamp: meta.timestamp, topic: meta.topic, partition: meta.partition, offset: meta.offset }
        : value
      write(inspect(shown, { depth: 6, breakLength: Number.POSITIVE_INFINITY }))
    })
  }

  /**
   * Re-keys the stream by a column or a function and sends it through a repartition topic, so
   * that every later step sees all records of one key on one partition (needed before stateful
   * steps). Grouping by a function needs a `name`: it names the repartition topic, which must stay
   * the same across restarts.
   */
  groupBy<C extends keyof V>(column: C, options?: { name?: string }): StreamingDataFrame<V, V[C]>
  groupBy<G>(fn: RecordFunction<V, K, G>, options: { name: string }): StreamingDataFrame<V, G>
  groupBy<G>(by: keyof V | RecordFunction<V, K, G>, options?: { name?: string }): StreamingDataFrame<V, G> {
    const name = options?.name ?? (typeof by === 'function' ? undefined : String(by))
    if (name === undefined || name === '') {
      throw new TypeError('groupBy(fn) needs options.name: it names the repartition topic, which must not change between runs')
    }
    const key: RecordFunction<V, K, G> = typeof by === 'function' ? by : (value: V) => value[by] as G
    const topic = this.#topology.addRepartition(name)
    this.#then({ kind: 'repartition', topic, key })
    return new StreamingDataFrame<V, G>(this.#topology, this.#topology.addSource(topic))
  }

  /** One dataframe of the records of this one and `others` (for example of several topics). */
  concat(...others: StreamingDataFrame<V, K>[]): StreamingDataFrame<V, K> {
    const parents = [this.#node, ...others.map((other) => other.#node)]
    if (others.some((other) => other.#topology !== this.#topology)) {
      throw new TypeError('concat() joins dataframes of one Application only')
    }
    return new StreamingDataFrame<V, K>(this.#topology, new StepNode({ kind: 'concat' }, parents))
  }

  /**
   * Tumbling windows: fixed, non-overlapping, epoch-aligned [start, start + sizeMs). Follow with an
   * aggregation (`.agg({...})`, `.sum('amount')`, `.count()`, …) and `.final()` or `.current()`.
   * Windows are per message key (groupBy first to key by a column) and close by the partition's event time.
   */
  tumblingWindow(sizeMs: number, options: WindowStepOptions<V, K> = {}): WindowedDataFrame<V, K> {
    return this.#windowed(tumbling(sizeMs, options), `tumbling-${sizeMs}`, options)
  }

  /** Hopping windows [start, start + sizeMs) starting every `advanceMs`: a record belongs to sizeMs / advanceMs of them. */
  hoppingWindow(sizeMs: number, advanceMs: number, options: WindowStepOptions<V, K> = {}): WindowedDataFrame<V, K> {
    return this.#windowed(hopping(sizeMs, advanceMs, options), `hopping-${sizeMs}-${advanceMs}`, options)
  }

  /** Sliding windows (Kafka Streams' semantics): [start, start + differenceMs], both ends inclusive, made by the records themselves. */
  slidingWindow(differenceMs: number, options: WindowStepOptions<V, K> = {}): WindowedDataFrame<V, K> {
    return this.#windowed(sliding(differenceMs, options), `sliding-${differenceMs}`, options)
  }

  /** Session windows: records of a key closer than `gapMs` form one session [first, last]. Aggregators need merge (all built-in ones but reduce without it). */
  sessionWindow(gapMs: number, options: WindowStepOptions<V, K> = {}): WindowedDataFrame<V, K> {
    return this.#windowed(session(gapMs, options), `session-${gapMs}`, options)
  }

  #windowed(windows: WindowDefinition, baseName: string, options: WindowStepOptions<V, K>): WindowedDataFrame<V, K> {
    const build = <R>(aggregator: Aggregator<never, unknown, R>, aggregationName: string, emit: EmitMode): StreamingDataFrame<WindowResult<K, R>, K> => {
      const store = options.name ?? `${baseName}-${aggregationName}`
      this.#topology.addStore(store, 'window')
      return this.#then({ kind: 'window', store, windows, aggregator, emit, timestamp: options.timestampExtractor })
    }
    return new WindowedDataFrame<V, K>(windows, build)
  }

  #thenStateful<V2>(mode: 'apply' | 'expand' | 'update' | 'filter', fn: StatefulFunction<V, K, unknown>, options: StatefulOptions): StreamingDataFrame<V2, K> {
    const store = options.store ?? 'default'
    this.#topology.addStore(store, 'keyed')
    return this.#then({ kind: 'stateful', mode, store, fn })
  }

  #then<V2, K2>(step: Step): StreamingDataFrame<V2, K2> {
    return new StreamingDataFrame<V2, K2>(this.#topology, new StepNode(step, [this.#node]))
  }
}
