/**
 * A client of the Confluent Schema Registry REST API (also spoken by Karapace, Apicurio's ccompat
 * API, Redpanda and Confluent Cloud). Every answer that cannot change is cached: a schema by id,
 * the id of a schema under a subject, a subject's version. Only `latest` is asked again, after
 * `latestCacheMs`.
 */
import { SluiceError, redactSecrets } from '../errors.ts'
import { changedProtobufFields } from './protobuf-diff.ts'

export type SchemaType = 'AVRO' | 'PROTOBUF' | 'JSON'

/** A schema that names other registered schemas (an Avro named type, an imported .proto file, a JSON $ref). */
export interface SchemaReference {
  /** Avro: the referenced type's full name; Protobuf: the import path; JSON Schema: the $ref URL. */
  name: string
  subject: string
  version: number
}

export interface SchemaDefinition {
  schemaType: SchemaType
  /** The schema's text: Avro or JSON Schema JSON, or .proto source. */
  schema: string
  references?: SchemaReference[]
}

export interface RegisteredSchema extends SchemaDefinition {
  subject: string
  id: number
  version: number
}

export type RegistryAuth = { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string }

export type CompatibilityLevel = 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE' | 'NONE'

export interface SchemaRegistryOptions {
  /** Base URL, e.g. `http://127.0.0.1:8081` or `https://psrc-xxxx.confluent.cloud`. */
  url: string
  auth?: RegistryAuth
  /** Per request. Default 10 s. */
  timeoutMs?: number
  /** How long `latestVersion` answers are reused. Default 30 s. */
  latestCacheMs?: number
}

export interface CompatibilityResult {
  compatible: boolean
  /** The registry's reasons (with `verbose=true`), naming the fields that break compatibility. */
  messages: string[]
}

interface RegistryErrorBody {
  error_code?: number
  message?: string
}

export class SchemaRegistryClient {
  readonly url: string
  readonly #auth: RegistryAuth | undefined
  readonly #timeoutMs: number
  readonly #latestCacheMs: number
  readonly #byId = new Map<number, Promise<SchemaDefinition>>()
  readonly #idBySchema = new Map<string, Promise<number>>()
  readonly #byVersion = new Map<string, Promise<RegisteredSchema>>()
  readonly #latest = new Map<string, { at: number; schema: Promise<RegisteredSchema> }>()

  constructor(options: SchemaRegistryOptions) {
    this.url = options.url.replace(/\/+$/, '')
    this.#auth = options.auth
    this.#timeoutMs = options.timeoutMs ?? 10_000
    this.#latestCacheMs = options.latestCacheMs ?? 30_000
  }

  /** Registers `schema` under `subject` (or finds it already there) and returns its global id. */
  register(subject: string, schema: SchemaDefinition): Promise<number> {
    return this.#cached(this.#idBySchema, `register\0${subject}\0${schemaKey(schema)}`, async () => {
      try {
        const body = await this.#request<{ id: number }>('POST', `/subjects/${encodeURIComponent(subject)}/versions`, requestBody(schema), { subject })
        return body.id
      } catch (error) {
        if (error instanceof SluiceError && error.code === 'SCHEMA_INCOMPATIBLE') throw await this.#explainIncompatible(error, subject, schema)
        throw error
      }
    })
  }

  /** Adds the registry's verbose reasons and the names of the fields its JSON pointers point at. */
  async #explainIncompatible(error: SluiceError, subject: string, schema: SchemaDefinition): Promise<SluiceError> {
    const reasons = await this.checkCompatibility(subject, schema).then(
      (result) => result.messages,
      () => [],
    )
    const fields =
      schema.schemaType === 'PROTOBUF'
        ? await this.latestVersion(subject).then(
            (latest) => changedProtobufFields(latest.schema, schema.schema),
            () => [],
          )
        : fieldsAtPointers([error.message, ...reasons].join('\n'), schema)
    const message = error.message.slice(0, error.message.length - error.fix.length - 3)
    return new SluiceError(
      'SCHEMA_INCOMPATIBLE',
      `${message}${fields.length > 0 ? `; incompatible field${fields.length > 1 ? 's' : ''}: ${fields.map((field) => `"${field}"`).join(', ')}` : ''}${reasons.length > 0 ? `; ${reasons.join('; ')}` : ''}`,
      { fix: error.fix, cause: error },
    )
  }

  /** The id of `schema` if it is already registered under `subject`, without registering it. */
  lookup(subject: string, schema: SchemaDefinition): Promise<RegisteredSchema> {
    return this.#request<RegisteredSchema>('POST', `/subjects/${encodeURIComponent(subject)}`, requestBody(schema), { subject }).then((found) =>
      normalize(found, subject),
    )
  }

  /** The schema with global id `id`. */
  schemaById(id: number): Promise<SchemaDefinition> {
    return this.#cached(this.#byId, id, async () => {
      const body = await this.#request<{ schema: string; schemaType?: SchemaType; references?: SchemaReference[] }>('GET', `/schemas/ids/${id}`, undefined, { id })
      return { schemaType: body.schemaType ?? 'AVRO', schema: body.schema, references: body.references ?? [] }
    })
  }

  /** A registered version of `subject`. */
  schemaVersion(subject: string, version: number): Promise<RegisteredSchema> {
    return this.#cached(this.#byVersion, `${subject}\0${version}`, () => this.#fetchVersion(subject, String(version)))
  }

  /** The newest version of `subject` (cached for `latestCacheMs`). */
  latestVersion(subject: string): Promise<RegisteredSchema> {
    const hit = this.#latest.get(subject)
    if (hit !== undefined && Date.now() - hit.at < this.#latestCacheMs) return hit.schema
    const schema = this.#fetchVersion(subject, 'latest')
    this.#latest.set(subject, { at: Date.now(), schema })
    schema.catch(() => this.#latest.delete(subject))
    return schema
  }

  /** Whether `schema` could be registered under `subject` now, and if not the registry's reasons. */
  async checkCompatibility(subject: string, schema: SchemaDefinition, version: number | 'latest' = 'latest'): Promise<CompatibilityResult> {
    const body = await this.#request<{ is_compatible: boolean; messages?: string[] }>(
      'POST',
      `/compatibility/subjects/${encodeURIComponent(subject)}/versions/${version}?verbose=true`,
      requestBody(schema),
      { subject },
    )
    return { compatible: body.is_compatible, messages: body.messages ?? [] }
  }

  /** Sets the compatibility level of one subject. */
  async setCompatibility(subject: string, level: CompatibilityLevel): Promise<void> {
    await this.#request('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level }, { subject })
  }

  /** The subjects the registry knows. */
  subjects(): Promise<string[]> {
    return this.#request<string[]>('GET', '/subjects', undefined, {})
  }

  /** Deletes every version of `subject` (soft delete, as the registry defines it). */
  async deleteSubject(subject: string): Promise<void> {
    await this.#request('DELETE', `/subjects/${encodeURIComponent(subject)}`, undefined, { subject })
    for (const key of this.#byVersion.keys()) if (key.startsWith(`${subject}\0`)) this.#byVersion.delete(key)
    for (const key of this.#idBySchema.keys()) if (key.startsWith(`register\0${subject}\0`)) this.#idBySchema.delete(key)
    this.#latest.delete(subject)
  }

  async #fetchVersion(subject: string, version: string): Promise<RegisteredSchema> {
    const body = await this.#request<RegisteredSchema>('GET', `/subjects/${encodeURIComponent(subject)}/versions/${version}`, undefined, { subject, version })
    const registered = normalize(body, subject)
    this.#byId.set(registered.id, Promise.resolve({ schemaType: registered.schemaType, schema: registered.schema, references: registered.references ?? [] }))
    return registered
  }

  /** Remembers an answer; a failed request is forgotten so that the next call asks again. */
  #cached<K, V>(cache: Map<K, Promise<V>>, key: K, load: () => Promise<V>): Promise<V> {
    let value = cache.get(key)
    if (value === undefined) {
      value = load()
      cache.set(key, value)
      value.catch(() => cache.delete(key))
    }
    return value
  }

  async #request<T>(method: string, path: string, body: unknown, about: { subject?: string; id?: number; version?: string }): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/vnd.schemaregistry.v1+json, application/json' }
    if (body !== undefined) headers['Content-Type'] = 'application/vnd.schemaregistry.v1+json'
    if (this.#auth?.type === 'basic') headers.Authorization = `Basic ${Buffer.from(`${this.#auth.username}:${this.#auth.password}`).toString('base64')}`
    if (this.#auth?.type === 'bearer') headers.Authorization = `Bearer ${this.#auth.token}`
    const what = describe(method, about)
    let response: Response
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
    } catch (error) {
      throw new SluiceError('SCHEMA_REGISTRY', `Could not reach the Schema Registry at ${this.url} to ${what}: ${this.#redact(String((error as Error).cause ?? error))}`, {
        fix: 'Check the registry URL and that the registry is running and reachable from this machine.',
        cause: error,
        retriable: true,
      })
    }
    const text = await response.text()
    if (response.ok) return (text === '' ? undefined : JSON.parse(text)) as T
    throw this.#error(response.status, text, what, about)
  }

  #error(status: number, text: string, what: string, about: { subject?: string; id?: number; version?: string }): SluiceError {
    let parsed: RegistryErrorBody
    try {
      parsed = JSON.parse(text) as RegistryErrorBody
    } catch {
      parsed = { message: text.slice(0, 300) }
    }
    const code = parsed.error_code ?? status
    const detail = this.#redact(parsed.message ?? `HTTP ${status}`)
    const message = `The Schema Registry at ${this.url} refused to ${what}: ${detail} (error ${code})`
    if (status === 409 || code === 409) {
      return new SluiceError('SCHEMA_INCOMPATIBLE', message, {
        fix: `Make the change compatible with the subject's compatibility level (for BACKWARD: add fields only with defaults or as nullable, do not remove fields without defaults or change types), or register it under a new subject.`,
      })
    }
    if (status === 401 || status === 403) {
      return new SluiceError('SCHEMA_REGISTRY', message, { fix: 'Check the registry credentials (basic user/password or bearer token) and that they may read and write this subject.' })
    }
    const subjectMissing = code === 40401 || (code === 40402 && about.version === 'latest')
    const fixes: Record<number, string> = {
      40401: `Register a schema under subject "${about.subject ?? ''}" first, or check the subject name strategy and the topic name.`,
      40402: `Ask for a version that exists under subject "${about.subject ?? ''}" (see GET /subjects/${about.subject ?? ''}/versions).`,
      40403: `The schema id ${about.id ?? ''} is not in this registry: point the consumer at the registry the producer used.`,
      42201: 'Fix the schema text: the registry could not parse it (see the message for the position).',
      42202: 'Use a positive version number or "latest".',
    }
    return new SluiceError('SCHEMA_REGISTRY', message, {
      fix: (subjectMissing ? fixes[40401] : fixes[code]) ?? 'Check the registry logs; retry once the registry is healthy.',
      retriable: status >= 500,
    })
  }

  #redact(text: string): string {
    if (this.#auth === undefined) return text
    return redactSecrets(text, this.#auth.type === 'basic' ? [this.#auth.password] : [this.#auth.token])
  }
}

/**
 * Registries point at the offending part of an Avro or JSON schema with JSON pointers
 * (`/fields/0/type`, `/properties/id`); this names the fields those pointers reach.
 */
function fieldsAtPointers(text: string, schema: SchemaDefinition): string[] {
  let root: unknown
  try {
    root = JSON.parse(schema.schema)
  } catch {
    return []
  }
  const names = new Set<string>()
  for (const [pointer] of text.matchAll(/(?:\/(?:fields|properties|items|type|values|\d+|[A-Za-z_]\w*))+/g)) {
    const path: string[] = []
    let node: unknown = root
    const parts = pointer.split('/').slice(1)
    for (let i = 0; i < parts.length && node !== undefined; i++) {
      const part = parts[i]!
      node = Array.isArray(node) ? node[Number(part)] : typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined
      if (parts[i - 1] === 'fields' && typeof node === 'object' && node !== null && typeof (node as { name?: unknown }).name === 'string') path.push((node as { name: string }).name)
      if (parts[i - 1] === 'properties' && node !== undefined) path.push(part)
    }
    if (path.length > 0) names.add(path.join('.'))
  }
  return [...names]
}

function requestBody(schema: SchemaDefinition): Record<string, unknown> {
  const body: Record<string, unknown> = { schema: schema.schema }
  // AVRO is the API's default; leaving it out keeps older registries happy.
  if (schema.schemaType !== 'AVRO') body.schemaType = schema.schemaType
  if (schema.references !== undefined && schema.references.length > 0) body.references = schema.references
  return body
}

function normalize(body: RegisteredSchema, subject: string): RegisteredSchema {
  return { ...body, subject: body.subject ?? subject, schemaType: body.schemaType ?? 'AVRO', references: body.references ?? [] }
}

function schemaKey(schema: SchemaDefinition): string {
  return `${schema.schemaType}\0${schema.schema}\0${JSON.stringify(schema.references ?? [])}`
}

function describe(method: string, about: { subject?: string; id?: number; version?: string }): string {
  if (about.id !== undefined) return `give schema id ${about.id}`
  if (about.subject !== undefined) return `${method === 'GET' ? 'read' : 'change'} subject "${about.subject}"${about.version !== undefined ? ` version ${about.version}` : ''}`
  return `${method} the registry`
}
