/**
 * The {@link ObjectStore} of a table on Amazon S3 or an S3-compatible service (`s3://bucket/prefix`,
 * `s3a://bucket/prefix`). Commit files are written with S3 conditional writes (`If-None-Match: *`,
 * on AWS S3 since August 2024): of two writers racing for a version, S3 lets exactly one create it.
 * An S3-compatible service that ignores the header would let both win, so use one that supports it.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import { setTimeout as sleep } from 'node:timers/promises'
import { SluiceError } from '../../errors.ts'
import { checkRange, storageError, type StorageOperation } from './cloud-errors.ts'
import { KeyPrefix, sameBytes } from './cloud-keys.ts'
import { checkOptions } from './cloud-options.ts'
import { RefreshingCredentials, type Expiring, type RefreshCredentials } from './credentials.ts'
import type { ObjectInfo, ObjectStore } from './object-store.ts'

/** Static or temporary AWS credentials, the shape Unity Catalog vends (`aws_temp_credentials`). */
export interface AwsCredentials extends Expiring {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

export interface S3StoreOptions {
  /** The bucket's region; default: AWS_REGION / the profile's region (requests follow S3's region redirects). */
  region?: string
  /** An S3-compatible service's URL, e.g. `http://127.0.0.1:9000`; default: AWS S3. */
  endpoint?: string
  /** Address buckets as `endpoint/bucket` rather than `bucket.endpoint`; default: true with an `endpoint`, false without. */
  pathStyle?: boolean
  /** The shared config/credentials profile to use; default: AWS_PROFILE, then `default`. */
  profile?: string
  /**
   * Explicit credentials. Without them (and without `refreshCredentials`) the AWS SDK's default chain
   * is used: environment variables, shared config and credentials files, web identity, container and
   * instance metadata.
   */
  credentials?: AwsCredentials
  /** Returns new temporary credentials, called shortly before the current ones expire. */
  refreshCredentials?: RefreshCredentials<AwsCredentials>
  /** Attempts per request, retries included (the SDK's default: 3). */
  maxAttempts?: number
}

export function createS3Store(uri: string, options: S3StoreOptions = {}): ObjectStore {
  return new S3ObjectStore(uri, options)
}

/** An S3 bucket refuses a conditional write while another one to the same key is in flight (409); it asks to retry. */
const conflictRetries = 5

class S3ObjectStore implements ObjectStore {
  readonly root: string
  private readonly bucket: string
  private readonly keys: KeyPrefix
  private readonly client: S3Client
  private readonly credentials: RefreshingCredentials<AwsCredentials> | undefined
  private lastCredentials: AwsCredentials | undefined

  constructor(uri: string, options: S3StoreOptions) {
    checkOptions('the S3 store options', options, {
      'region?': 'string',
      'endpoint?': 'string',
      'pathStyle?': 'boolean',
      'profile?': 'string',
      'credentials?': 'object',
      'refreshCredentials?': 'function',
      'maxAttempts?': 'number',
    })
    const match = /^(s3a?):\/\/([^/?#]+)(\/[^?#]*)?$/i.exec(uri)
    if (match === null) {
      throw new SluiceError('CONFIG_INVALID', `"${uri.split('?')[0]}" is not an S3 table URI`, {
        fix: 'Write S3 table locations as s3://bucket/path/to/table (or s3a://).',
      })
    }
    const [, , bucket = '', path = ''] = match
    this.bucket = bucket
    this.keys = new KeyPrefix(path)
    this.root = `s3://${bucket}/${this.keys.prefix}`.replace(/\/$/, '')
    if (options.credentials !== undefined || options.refreshCredentials !== undefined) {
      this.credentials = new RefreshingCredentials(options.credentials, options.refreshCredentials, this.root, (credentials) =>
        checkOptions('the S3 credentials', credentials, { accessKeyId: 'string', secretAccessKey: 'string', 'sessionToken?': 'string', 'expiresAt?': 'date' }),
      )
    }
    const config: S3ClientConfig = {
      region: options.region ?? (options.endpoint === undefined ? undefined : 'us-east-1'),
      endpoint: options.endpoint,
      forcePathStyle: options.pathStyle ?? options.endpoint !== undefined,
      followRegionRedirects: true,
      profile: options.profile,
      maxAttempts: options.maxAttempts,
    }
    const credentials = this.credentials
    if (credentials !== undefined) {
      config.credentials = async () => {
        const current = await credentials.get()
        this.lastCredentials = current
        const expiresAt = current.expiresAt
        return {
          accessKeyId: current.accessKeyId,
          secretAccessKey: current.secretAccessKey,
          sessionToken: current.sessionToken,
          expiration: expiresAt === undefined ? undefined : new Date(expiresAt),
        }
      }
    }
    this.client = new S3Client(config)
  }

  async *list(prefix: string, options: { startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    let continuationToken: string | undefined
    do {
      const page = await this.send('list', prefix, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.keys.key(prefix),
            StartAfter: options.startAfter === undefined ? undefined : this.keys.key(options.startAfter),
            ContinuationToken: continuationToken,
          }),
        ),
      )
      for (const object of page.Contents ?? []) {
        // Keys ending in `/` are folder markers some tools create, not files.
        if (object.Key === undefined || object.Key.endsWith('/')) continue
        yield { path: this.keys.path(object.Key), size: object.Size ?? 0, lastModified: object.LastModified?.getTime() ?? 0 }
      }
      continuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined
    } while (continuationToken !== undefined)
  }

  async head(path: string): Promise<ObjectInfo> {
    const head = await this.send('head', path, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keys.key(path) })))
    return { path, size: head.ContentLength ?? 0, lastModified: head.LastModified?.getTime() ?? 0 }
  }

  async read(path: string): Promise<Uint8Array> {
    return this.send('read', path, async () => {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keys.key(path) }))
      return (await object.Body?.transformToByteArray()) ?? new Uint8Array(0)
    })
  }

  async readRange(path: string, start: number, end: number): Promise<Uint8Array> {
    checkRange(this.url(path), start, end)
    if (start === end) return new Uint8Array(0)
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keys.key(path), Range: `bytes=${start}-${end - 1}` }))
      return (await object.Body?.transformToByteArray()) ?? new Uint8Array(0)
    } catch (error) {
      // A range starting at or past the end (416) holds no bytes, as a short read of a file would.
      if (httpStatus(error) === 416) return new Uint8Array(0)
      throw this.failure('read', path, error)
    }
  }

  async putIfAbsent(path: string, data: Uint8Array): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.keys.key(path), Body: data, IfNoneMatch: '*' }))
        return true
      } catch (error) {
        const status = httpStatus(error)
        // 412: the object exists. The same bytes mean our own write landed and the SDK retried after a lost response.
        if (status === 412) return sameBytes(await this.read(path), data)
        if (status === 409 && attempt < conflictRetries) {
          await sleep(50 * 2 ** attempt)
          continue
        }
        throw this.failure('write', path, error)
      }
    }
  }

  async put(path: string, data: Uint8Array): Promise<void> {
    await this.send('write', path, () => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.keys.key(path), Body: data })))
  }

  private async send<T>(operation: StorageOperation, path: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request()
    } catch (error) {
      throw this.failure(operation, path, error)
    }
  }

  private url(path: string): string {
    return `s3://${this.bucket}/${this.keys.key(path)}`
  }

  private failure(operation: StorageOperation, path: string, error: unknown): SluiceError {
    if (error instanceof SluiceError) return error
    const { name, message } = error as Error
    const code = (error as { Code?: string; code?: string }).Code ?? (error as { code?: string }).code ?? name
    if (/region is missing/i.test(message)) {
      return new SluiceError('DELTA_STORAGE', `no AWS region is configured for ${this.root}`, {
        fix: 'Set the S3 store option `region`, or AWS_REGION, or a region in the profile of ~/.aws/config.',
      })
    }
    return storageError(
      {
        url: operation === 'list' ? `${this.url(path)}*` : this.url(path),
        operation,
        credentialsFix:
          `Check the AWS credentials used for ${this.root} — the store's credentials/refreshCredentials options, or the default chain ` +
          '(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE in ~/.aws/config and ~/.aws/credentials, web identity, ' +
          'container or instance role) — and that they are current and allow s3:ListBucket, s3:GetObject and, for writers, s3:PutObject on this prefix.',
        secrets: [this.lastCredentials?.secretAccessKey, this.lastCredentials?.sessionToken],
      },
      { status: httpStatus(error), code, message },
    )
  }
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
}

