/**
 * serde: serialize + deserialize throughput of one 10-column record (the Delta types a table row
 * mixes: long, int, double, string, boolean, timestamp, decimal(12,2), date, a struct and an
 * array of strings) in JSON (the limit every figure is a ratio to), Avro, Protobuf and JSON Schema
 * (validated). Each format's schema is derived from the same Delta schema by src/serialization,
 * and each gets the row in its own natural JS form (JSON cannot hold a bigint or tell a Date back).
 *
 * One pass = serialize then deserialize every record of a pool of 1,000 distinct rows, cycled;
 * timed after a warm-up pass, on this process's one thread. The formats take turns over several
 * rounds and each reports its best round, so a burst of load on a shared machine skews no ratio. The registry wire format adds a
 * 5-byte header copy and is left out (no network in the loop: ids are resolved before it).
 * The source connector's rows/s with each format is measured by the source-snapshot benchmark,
 * which does not exist yet.
 */
import { avroSerde, deltaToAvro, deltaToJsonSchema, deltaToProtobuf, json, jsonSchemaSerde, protobufSerde, type DeltaStructType, type Serde } from '../src/serialization/index.ts'
import { defineBenchmark } from './lib/benchmark.ts'
import { now } from './lib/timing.ts'

const table: DeltaStructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: false },
    { name: 'quantity', type: 'integer', nullable: false },
    { name: 'score', type: 'double', nullable: true },
    { name: 'customer', type: 'string', nullable: true },
    { name: 'paid', type: 'boolean', nullable: false },
    { name: 'created_at', type: 'timestamp', nullable: true },
    { name: 'amount', type: 'decimal(12,2)', nullable: true },
    { name: 'day', type: 'date', nullable: true },
    { name: 'address', type: { type: 'struct', fields: [{ name: 'city', type: 'string', nullable: false }, { name: 'zip', type: 'integer', nullable: true }] }, nullable: true },
    { name: 'tags', type: { type: 'array', elementType: 'string', containsNull: false }, nullable: true },
  ],
}

const POOL = 1000
const context = { topic: 'bench-serde', isKey: false }

function rows(form: 'avro' | 'protobuf' | 'json'): unknown[] {
  return Array.from({ length: POOL }, (_, i) => {
    const created = new Date(Date.UTC(2026, 0, 1) + i * 61_000)
    return {
      id: form === 'json' ? 1_000_000_000 + i : 1_000_000_000n + BigInt(i),
      quantity: i % 50,
      score: i / 7,
      customer: `customer-${i % 97}`,
      paid: i % 3 === 0,
      created_at: form === 'json' ? created.toISOString() : created,
      amount: `${i * 3}.${String(i % 100).padStart(2, '0')}`,
      day: form === 'avro' ? new Date(Date.UTC(2026, 0, 1 + (i % 365))) : form === 'protobuf' ? 20_454 + (i % 365) : `2026-01-${String(1 + (i % 28)).padStart(2, '0')}`,
      address: { city: ['Oslo', 'Lyon', 'Porto'][i % 3], zip: i % 5 === 0 ? null : 1000 + i },
      tags: i % 4 === 0 ? [] : ['new', `batch-${i % 10}`],
    }
  })
}

/** Records serialized and deserialized per second, over `records` records after one warm-up pool. */
function roundTrips(serde: Serde<unknown>, pool: unknown[], records: number): { perSecond: number; bytesPerRecord: number } {
  let bytes = 0
  for (const row of pool) {
    const encoded = serde.serialize(row, context)
    serde.deserialize(encoded, context)
    bytes += encoded.length
  }
  const started = now()
  for (let i = 0; i < records; i++) serde.deserialize(serde.serialize(pool[i % POOL], context), context)
  const elapsed = now() - started
  return { perSecond: records / (elapsed / 1000), bytesPerRecord: bytes / POOL }
}

export default defineBenchmark({
  description: 'serialize+deserialize records/s of a 10-column row: JSON (limit), Avro, Protobuf, JSON Schema',
  needsKafka: false,
  run({ quick, report, progress }) {
    const records = quick ? 100_000 : 1_000_000
    const proto = deltaToProtobuf(table)
    const formats: { figure: string; serde: Serde<unknown>; pool: unknown[] }[] = [
      { figure: 'json', serde: json(), pool: rows('json') },
      { figure: 'avro', serde: avroSerde<object, unknown>({ schema: deltaToAvro(table) }), pool: rows('avro') },
      { figure: 'protobuf', serde: protobufSerde<unknown>({ schema: proto.schema, messageType: proto.messageType }), pool: rows('protobuf') },
      { figure: 'json_schema', serde: jsonSchemaSerde<unknown>({ schema: deltaToJsonSchema(table) }), pool: rows('json') },
    ]
    const rounds = quick ? 3 : 5
    const best = formats.map(() => ({ perSecond: 0, bytesPerRecord: 0 }))
    for (let round = 1; round <= rounds; round++) {
      formats.forEach((format, i) => {
        const result = roundTrips(format.serde, format.pool, records)
        progress(`round ${round}/${rounds} ${format.figure}: ${Math.round(result.perSecond)} round trips/s`)
        if (result.perSecond > best[i]!.perSecond) best[i] = result
      })
    }
    let limit: ReturnType<typeof report.limit> | undefined
    formats.forEach((format, i) => {
      const result = best[i]!
      const setup = { records_per_round: records, rounds, columns: table.fields.length, bytes_per_record: Math.round(result.bytesPerRecord * 10) / 10 }
      const figure = `${format.figure}_roundtrips_per_s`
      if (limit === undefined) limit = report.limit(figure, result.perSecond, 'records/s', setup)
      else report.compared(figure, result.perSecond, 'records/s', limit, setup)
    })
    return Promise.resolve()
  },
})
