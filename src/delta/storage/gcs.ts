/**
 * The {@link ObjectStore} of a table on Google Cloud Storage (`gs://bucket/prefix`). Commit files are
 * written with the precondition `ifGenerationMatch: 0` ("only if no live object exists"): of two
 * writers racing for a version, GCS lets exactly one create it.
 */
import { Storage, type Bucket, type StorageOptions } from '@google-cloud/storage'
// The auth library @google-cloud/storage itself is built on (its dependency); an OAuth2Client with a
// refresh handler is how a caller-supplied access token reaches it.
import { OAuth2Client } from 'google-auth-library'
import { SluiceError } from '../../errors.ts'
import { checkRange, storageError, type StorageOperation } from './cloud-errors.ts'
import { KeyPrefix, sameBytes } from './cloud-keys.ts'
import { checkOptions, checkVariant } from './cloud-options.ts'
import { RefreshingCredentials, type Expiring, type RefreshCredentials } from './credentials.ts'
import type { ObjectInfo, ObjectStore } from './object-store.ts'

/** An OAuth 2.0 access token, the kind Unity Catalog vends (`gcp_oauth_token`). */
export interface GcsAccessToken extends Expiring {
  readonly accessToken: string
}

export type GcsCredentials =
  | GcsAccessToken
  /** A service account key: the JSON key file's text or its parsed content. */
  | { readonly serviceAccountKey: string | Readonly<Record<string, unknown>> }
  /** The path of a service account key file (or any credential file Google's auth library reads). */
  | { readonly keyFile: string }

export interface GcsStoreOptions {
  /** The JSON API's URL, e.g. an emulator's `http://127.0.0.1:4443`; default: `https://storage.googleapis.com`. */
  endpoint?: string
  /** The project billed for requests; default: the one of the credentials. */
  projectId?: string
  /**
   * Explicit credentials. Without them (and without `refreshCredentials`) Application Default
   * Credentials are used: GOOGLE_APPLICATION_CREDENTIALS, the gcloud ADC file, the metadata server.
   */
  credentials?: GcsCredentials
  /** Returns a new access token, called shortly before the current one expires (vended credentials). */
  refreshCredentials?: RefreshCredentials<GcsAccessToken>
}

export function createGcsStore(uri: string, options: GcsStoreOptions = {}): ObjectStore {
  return new GcsObjectStore(uri, options)
}

const listPageSize = 1000

const tokenSpec = { accessToken: 'string', 'expiresAt?': 'date' } as const

const credentialVariants = [
  { key: 'accessToken', spec: tokenSpec },
  { key: 'serviceAccountKey', spec: { serviceAccountKey: 'json' } },
  { key: 'keyFile', spec: { keyFile: 'string' } },
] as const

class GcsObjectStore implements ObjectStore {
  readonly root: string
  private readonly bucketName: string
  private readonly keys: KeyPrefix
  private readonly bucket: Bucket
  /** The secrets in use, by kind, kept to strip them from messages. */
  private readonly secrets = new Map<'privateKey' | 'accessToken', string>()

  constructor(uri: string, options: GcsStoreOptions) {
    checkOptions('the GCS store options', options, { 'endpoint?': 'string', 'projectId?': 'string', 'credentials?': 'object', 'refreshCredentials?': 'function' })
    if (options.credentials !== undefined) checkVariant('the GCS credentials', options.credentials, credentialVariants)
    const match = /^gs:\/\/([^/?#]+)(\/[^?#]*)?$/i.exec(uri)
    if (match === null) {
      throw new SluiceError('CONFIG_INVALID', `"${uri.split('?')[0]}" is not a Google Cloud Storage table URI`, {
        fix: 'Write GCS table locations as gs://bucket/path/to/table.',
      })
    }
    const [, bucket = '', path = ''] = match
    this.bucketName = bucket
    this.keys = new KeyPrefix(path)
    this.root = `gs://${bucket}/${this.keys.prefix}`.replace(/\/$/, '')
    const storageOptions: StorageOptions = {
      projectId: options.projectId,
      // An emulator or private endpoint still gets the credentials.
      useAuthWithCustomEndpoint: true,
      retryOptions: { autoRetry: true, maxRetries: 3, maxRetryDelay: 8, totalTimeout: 120 },
    }
    if (options.endpoint !== undefined) storageOptions.apiEndpoint = options.endpoint.replace(/\/+$/, '')
    const credentials = options.credentials
    if (options.refreshCredentials !== undefined || (credentials !== undefined && 'accessToken' in credentials)) {
      storageOptions.authClient = this.tokenClient(new RefreshingCredentials(credentials !== undefined && 'accessToken' in credentials ? credentials : undefined, options.refreshCredentials, this.root, (token) =>
          checkOptions('the GCS access token', token, tokenSpec),
        ))
    } else if (credentials !== undefined && 'serviceAccountKey' in credentials) {
      const key = credentials.serviceAccountKey
      storageOptions.credentials = typeof key === 'string' ? parseKey(key, this.root) : key
      const privateKey = storageOptions.credentials.private_key
      if (typeof privateKey === 'string') this.secrets.set('privateKey', privateKey)
    } else if (credentials !== undefined && 'keyFile' in credentials) {
      storageOptions.keyFilename = credentials.keyFile
    }
    this.bucket = new Storage(storageOptions).bucket(bucket)
  }

  async *list(prefix: string, options: { startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    // GCS's startOffset is inclusive; the object named startAfter itself is skipped below.
    const startAfterKey = options.startAfter === undefined ? undefined : this.keys.key(options.startAfter)
    let pageToken: string | undefined
    do {
      const [files, next] = await this.send('list', prefix, () =>
        this.bucket.getFiles({ prefix: this.keys.key(prefix), startOffset: startAfterKey, autoPaginate: false, maxResults: listPageSize, pageToken }),
      )
      for (const file of files) {
        // Names ending in `/` are folder placeholders some tools create, not files.
        if (file.name === startAfterKey || file.name.endsWith('/')) continue
        yield { path: this.keys.path(file.name), size: Number(file.metadata.size ?? 0), lastModified: Date.parse(file.metadata.updated ?? '') || 0 }
      }
      pageToken = (next as { pageToken?: string } | null)?.pageToken
    } while (pageToken !== undefined)
  }

  async head(path: string): Promise<ObjectInfo> {
    const [metadata] = await this.send('head', path, () => this.bucket.file(this.keys.key(path)).getMetadata())
    return { path, size: Number(metadata.size ?? 0), lastModified: Date.parse(metadata.updated ?? '') || 0 }
  }

  async read(path: string): Promise<Uint8Array> {
    const [contents] = await this.send('read', path, () => this.bucket.file(this.keys.key(path)).download())
    return new Uint8Array(contents.buffer, contents.byteOffset, contents.byteLength)
  }

  async readRange(path: string, start: number, end: number): Promise<Uint8Array> {
    checkRange(this.url(path), start, end)
    if (start === end) return new Uint8Array(0)
    try {
      // The library's range end is inclusive; ranges are not checksummed (the checksums cover whole objects).
      const [contents] = await this.bucket.file(this.keys.key(path)).download({ start, end: end - 1, validation: false })
      return new Uint8Array(contents.buffer, contents.byteOffset, contents.byteLength)
    } catch (error) {
      // A range starting at or past the end (416) holds no bytes, as a short read of a file would.
      if ((error as { code?: unknown }).code === 416) return new Uint8Array(0)
      throw this.failure('read', path, error)
    }
  }

  async putIfAbsent(path: string, data: Uint8Array): Promise<boolean> {
    try {
      await this.bucket.file(this.keys.key(path)).save(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
        resumable: false,
        preconditionOpts: { ifGenerationMatch: 0 },
      })
      return true
    } catch (error) {
      // 412: a live object exists. The same bytes mean our own write landed and the library retried after a lost response.
      if ((error as { code?: unknown }).code === 412) return sameBytes(await this.read(path), data)
      throw this.failure('write', path, error)
    }
  }

  async put(path: string, data: Uint8Array): Promise<void> {
    await this.send('write', path, () => this.bucket.file(this.keys.key(path)).save(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { resumable: false }))
  }

  /** An auth client that hands out the caller's access token, refreshed through the callback before it expires. */
  private tokenClient(tokens: RefreshingCredentials<GcsAccessToken>): OAuth2Client {
    const client = new OAuth2Client()
    client.refreshHandler = async () => {
      const { accessToken, expiresAt } = await tokens.get()
      this.secrets.set('accessToken', accessToken)
      const expiry = expiresAt === undefined ? Date.now() + 3_600_000 : typeof expiresAt === 'number' ? expiresAt : expiresAt.getTime()
      return { access_token: accessToken, expiry_date: expiry }
    }
    return client
  }

  private async send<T>(operation: StorageOperation, path: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request()
    } catch (error) {
      throw this.failure(operation, path, error)
    }
  }

  private url(path: string): string {
    return `gs://${this.bucketName}/${this.keys.key(path)}`
  }

  private failure(operation: StorageOperation, path: string, error: unknown): SluiceError {
    if (error instanceof SluiceError) return error
    const { name, message } = error as Error
    const rawCode = (error as { code?: unknown }).code
    const status = typeof rawCode === 'number' ? rawCode : (error as { status?: number }).status
    const reason = (error as { errors?: Array<{ reason?: string }> }).errors?.[0]?.reason
    const code = reason === 'notFound' && /bucket does not exist/i.test(message) ? 'NoSuchBucket' : /default credentials/i.test(message) ? 'CredentialUnavailableError' : typeof rawCode === 'string' ? rawCode : (reason ?? name)
    return storageError(
      {
        url: operation === 'list' ? `${this.url(path)}*` : this.url(path),
        operation,
        credentialsFix:
          `Check the Google Cloud credentials used for ${this.root} — the store's credentials/refreshCredentials options (access token, service account key), ` +
          'or Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, the metadata server) — ' +
          'and that they are current and grant storage.objects.list, storage.objects.get and, for writers, storage.objects.create on this bucket (e.g. Storage Object User).',
        secrets: [...this.secrets.values()],
      },
      { status, code, message },
    )
  }
}

function parseKey(text: string, root: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch {
    throw new SluiceError('CONFIG_INVALID', `the service account key given for ${root} is not JSON`, {
      fix: 'Pass the content of the service account key file (JSON), or its path as credentials.keyFile.',
    })
  }
}
