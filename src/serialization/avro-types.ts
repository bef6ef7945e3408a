/**
 * The TypeScript type of the records an Avro schema describes, inferred from the schema literal
 * (`avroSerde({ schema: {...} })` keeps the literal through a `const` type parameter, so no code
 * generation step is needed). Named-type references by name infer `unknown`.
 */

type Primitive<S> = S extends 'null'
  ? null
  : S extends 'boolean'
    ? boolean
    : S extends 'int' | 'float' | 'double'
      ? number
      : S extends 'long'
        ? bigint
        : S extends 'bytes'
          ? Buffer
          : S extends 'string'
            ? string
            : unknown

type Logical<S> = S extends { logicalType: 'decimal' }
  ? string
  : S extends { logicalType: 'timestamp-micros' | 'timestamp-millis' | 'local-timestamp-micros' | 'local-timestamp-millis' | 'date' }
    ? Date
    : S extends { logicalType: 'uuid' }
      ? string
      : never

type RecordOf<Fields> = Fields extends readonly unknown[]
  ? { -readonly [F in Fields[number] as F extends { name: infer N extends string } ? N : never]: F extends { type: infer T } ? AvroValue<T> : never }
  : never

/** The JS value avsc (with Sluice's logical types) reads for schema `S`. */
export type AvroValue<S> = S extends string
  ? Primitive<S>
  : S extends readonly unknown[]
    ? AvroValue<S[number]>
    : S extends { logicalType: string }
      ? [Logical<S>] extends [never] ? AvroValue<Omit<S, 'logicalType'>> : Logical<S>
      : S extends { type: 'record' | 'error'; fields: infer Fields }
        ? RecordOf<Fields>
        : S extends { type: 'array'; items: infer Items }
          ? AvroValue<Items>[]
          : S extends { type: 'map'; values: infer Values }
            ? Record<string, AvroValue<Values>>
            : S extends { type: 'enum'; symbols: readonly (infer Symbol)[] }
              ? Symbol
              : S extends { type: 'fixed' }
                ? Buffer
                : S extends { type: infer T extends string }
                  ? Primitive<T>
                  : unknown
