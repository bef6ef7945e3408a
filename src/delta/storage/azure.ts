/**
 * The {@link ObjectStore} of a table on Azure Data Lake Storage Gen2 or Blob Storage
 * (`abfss://container@account.dfs.core.windows.net/path`, `az://container/path`). It speaks the Blob
 * API, which ADLS Gen2 accounts serve too. Commit files are written with `If-None-Match: *`: of two
 * writers racing for a version, the service lets exactly one create it.
 */
import { ClientSecretCredential, DefaultAzureCredential, type TokenCredential } from '@azure/identity'
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob'
import { SluiceError } from '../../errors.ts'
import { checkRange, storageError, type StorageOperation } from './cloud-errors.ts'
import { KeyPrefix, sameBytes, sortsAfter } from './cloud-keys.ts'
import { checkOptions, checkVariant } from './cloud-options.ts'
import { RefreshingCredentials, type Expiring, type RefreshCredentials } from './credentials.ts'
import type { ObjectInfo, ObjectStore } from './object-store.ts'

/** A shared access signature (the query string, with or without `?`), the kind Unity Catalog vends (`azure_user_delegation_sas`). */
export interface AzureSasCredentials extends Expiring {
  readonly sasToken: string
}

export type AzureCredentials =
  | { readonly accountKey: string }
  | AzureSasCredentials
  /** A service principal (Microsoft Entra app registration) with a client secret. */
  | { readonly tenantId: string; readonly clientId: string; readonly clientSecret: string }
  /** Any `@azure/identity` credential (managed identity, workload identity, Azure CLI, ...). */
  | { readonly tokenCredential: TokenCredential }

export interface AzureStoreOptions {
  /** The storage account; default: the one in an `abfss://` URI, else AZURE_STORAGE_ACCOUNT_NAME (or AZURE_STORAGE_ACCOUNT). */
  accountName?: string
  /** The Blob service URL, e.g. Azurite's `http://127.0.0.1:10000/devstoreaccount1`; default: `https://<account>.blob.<cloud suffix>`. */
  endpoint?: string
  /**
   * Explicit credentials. Without them (and without `refreshCredentials`): AZURE_STORAGE_ACCOUNT_KEY
   * (or AZURE_STORAGE_KEY), then AZURE_STORAGE_SAS_TOKEN, then DefaultAzureCredential (service
   * principal from AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, workload identity, managed
   * identity, Azure CLI, ...).
   */
  credentials?: AzureCredentials
  /** Returns a new SAS, called shortly before the current one expires (vended credentials). */
  refreshCredentials?: RefreshCredentials<AzureSasCredentials>
}

export function createAzureStore(uri: string, options: AzureStoreOptions = {}): ObjectStore {
  return new AzureObjectStore(uri, options)
}

const sasSpec = { sasToken: 'string', 'expiresAt?': 'date' } as const

const credentialVariants = [
  { key: 'accountKey', spec: { accountKey: 'string' } },
  { key: 'sasToken', spec: sasSpec },
  { key: 'clientSecret', spec: { tenantId: 'string', clientId: 'string', clientSecret: 'string' } },
  { key: 'tokenCredential', spec: { tokenCredential: 'object' } },
] as const

interface Location {
  container: string
  account: string
  /** `core.windows.net`, or a sovereign cloud's suffix. */
  suffix: string
  path: string
}

function parseUri(uri: string, accountOption: string | undefined): Location {
  const abfss = /^(?:abfss?|wasbs?):\/\/([^@/]+)@([^./]+)\.(?:dfs|blob)\.([^/]+)(\/.*)?$/i.exec(uri)
  if (abfss !== null) {
    const [, container = '', account = '', suffix = '', path = ''] = abfss
    return { container, account: accountOption ?? account, suffix, path }
  }
  const az = /^(?:az|azure|abfss?):\/\/([^@/]+)(\/.*)?$/i.exec(uri)
  const account = accountOption ?? process.env.AZURE_STORAGE_ACCOUNT_NAME ?? process.env.AZURE_STORAGE_ACCOUNT
  if (az !== null && account !== undefined) {
    const [, container = '', path = ''] = az
    return { container, account, suffix: 'core.windows.net', path }
  }
  throw new SluiceError('CONFIG_INVALID', `"${uri.split('?')[0]}" is not an Azure table URI${az === null ? '' : ' with a known storage account'}`, {
    fix: 'Write Azure table locations as abfss://container@account.dfs.core.windows.net/path/to/table, or az://container/path with the accountName option (or AZURE_STORAGE_ACCOUNT_NAME).',
  })
}

class AzureObjectStore implements ObjectStore {
  readonly root: string
  private readonly location: Location
  private readonly keys: KeyPrefix
  private readonly containerUrl: string
  private readonly credentials: AzureCredentials | undefined
  private readonly sas: RefreshingCredentials<AzureSasCredentials> | undefined
  private client: { sasToken: string | undefined; container: ContainerClient } | undefined

  constructor(uri: string, options: AzureStoreOptions) {
    checkOptions('the Azure store options', options, { 'accountName?': 'string', 'endpoint?': 'string', 'credentials?': 'object', 'refreshCredentials?': 'function' })
    if (options.credentials !== undefined) checkVariant('the Azure credentials', options.credentials, credentialVariants)
    this.location = parseUri(uri, options.accountName)
    this.keys = new KeyPrefix(this.location.path)
    const { container, account, suffix } = this.location
    this.root = `abfss://${container}@${account}.dfs.${suffix}/${this.keys.prefix}`.replace(/\/$/, '')
    const endpoint = (options.endpoint ?? `https://${account}.blob.${suffix}`).replace(/\/+$/, '')
    this.containerUrl = `${endpoint}/${container}`
    this.credentials = options.credentials ?? credentialsFromEnvironment()
    if (options.refreshCredentials !== undefined || (this.credentials !== undefined && 'sasToken' in this.credentials)) {
      const initial = this.credentials !== undefined && 'sasToken' in this.credentials ? this.credentials : undefined
      this.sas = new RefreshingCredentials(initial, options.refreshCredentials, this.root, (sas) => checkOptions('the Azure SAS credentials', sas, sasSpec))
    }
  }

  async *list(prefix: string, options: { startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    const container = await this.container('list', prefix)
    // The Blob API has no start-after: the listing starts at the prefix and skips what sorts before.
    const startAfter = options.startAfter
    const pages = container.listBlobsFlat({ prefix: this.keys.key(prefix), includeMetadata: true }).byPage({ maxPageSize: 5000 })
    for (;;) {
      let page
      try {
        page = await pages.next()
      } catch (error) {
        throw this.failure('list', prefix, error)
      }
      if (page.done === true) return
      for (const blob of page.value.segment.blobItems) {
        // ADLS Gen2 lists its directories as empty blobs marked hdi_isfolder.
        if (blob.metadata?.hdi_isfolder === 'true') continue
        const path = this.keys.path(blob.name)
        if (startAfter !== undefined && !sortsAfter(path, startAfter)) continue
        yield { path, size: blob.properties.contentLength ?? 0, lastModified: blob.properties.lastModified.getTime() }
      }
    }
  }

  async head(path: string): Promise<ObjectInfo> {
    const properties = await this.send('head', path, async (container) => container.getBlobClient(this.keys.key(path)).getProperties())
    return { path, size: properties.contentLength ?? 0, lastModified: properties.lastModified?.getTime() ?? 0 }
  }

  async read(path: string): Promise<Uint8Array> {
    return this.send('read', path, async (container) => {
      const response = await container.getBlobClient(this.keys.key(path)).download()
      return collect(response.readableStreamBody)
    })
  }

  async readRange(path: string, start: number, end: number): Promise<Uint8Array> {
    checkRange(this.url(path), start, end)
    if (start === end) return new Uint8Array(0)
    const container = await this.container('read', path)
    try {
      const response = await container.getBlobClient(this.keys.key(path)).download(start, end - start)
      return await collect(response.readableStreamBody)
    } catch (error) {
      // A range starting at or past the end (416) holds no bytes, as a short read of a file would.
      if ((error as { statusCode?: number }).statusCode === 416) return new Uint8Array(0)
      throw this.failure('read', path, error)
    }
  }

  async putIfAbsent(path: string, data: Uint8Array): Promise<boolean> {
    const container = await this.container('write', path)
    try {
      await container.getBlockBlobClient(this.keys.key(path)).upload(data, data.length, { conditions: { ifNoneMatch: '*' } })
      return true
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode
      // 409 BlobAlreadyExists (or 412): the blob exists. The same bytes mean our own write landed and the SDK retried after a lost response.
      if (status === 409 || status === 412) return sameBytes(await this.read(path), data)
      throw this.failure('write', path, error)
    }
  }

  async put(path: string, data: Uint8Array): Promise<void> {
    await this.send('write', path, async (container) => container.getBlockBlobClient(this.keys.key(path)).upload(data, data.length))
  }

  private async send<T>(operation: StorageOperation, path: string, request: (container: ContainerClient) => Promise<T>): Promise<T> {
    const container = await this.container(operation, path)
    try {
      return await request(container)
    } catch (error) {
      throw this.failure(operation, path, error)
    }
  }

  /** The container client with current credentials; a refreshed SAS makes a new one. */
  private async container(operation: StorageOperation, path: string): Promise<ContainerClient> {
    if (this.sas !== undefined) {
      const { sasToken } = await this.sas.get()
      if (this.client?.sasToken !== sasToken) {
        this.client = { sasToken, container: new ContainerClient(`${this.containerUrl}?${sasToken.replace(/^\?/, '')}`) }
      }
      return this.client.container
    }
    if (this.client === undefined) {
      try {
        this.client = { sasToken: undefined, container: new ContainerClient(this.containerUrl, this.credential()) }
      } catch (error) {
        throw this.failure(operation, path, error)
      }
    }
    return this.client.container
  }

  private credential(): StorageSharedKeyCredential | TokenCredential {
    const credentials = this.credentials
    if (credentials === undefined) return new DefaultAzureCredential()
    if ('accountKey' in credentials) return new StorageSharedKeyCredential(this.location.account, credentials.accountKey)
    if ('tokenCredential' in credentials) return credentials.tokenCredential
    if ('clientSecret' in credentials) return new ClientSecretCredential(credentials.tenantId, credentials.clientId, credentials.clientSecret)
    throw new Error('a SAS is served by the refreshing path')
  }

  private url(path: string): string {
    const { container, account, suffix } = this.location
    return `abfss://${container}@${account}.dfs.${suffix}/${this.keys.key(path)}`
  }

  private failure(operation: StorageOperation, path: string, error: unknown): SluiceError {
    if (error instanceof SluiceError) return error
    const { name, message } = error as Error
    const credentials = this.credentials
    const secrets = [
      credentials !== undefined && 'accountKey' in credentials ? credentials.accountKey : undefined,
      credentials !== undefined && 'clientSecret' in credentials ? credentials.clientSecret : undefined,
      ...sasSecrets(credentials !== undefined && 'sasToken' in credentials ? credentials.sasToken : undefined),
      ...sasSecrets(this.client?.sasToken),
    ]
    return storageError(
      {
        url: operation === 'list' ? `${this.url(path)}*` : this.url(path),
        operation,
        credentialsFix:
          `Check the Azure credentials used for ${this.root} — the store's credentials/refreshCredentials options (account key, SAS, service principal), ` +
          'or AZURE_STORAGE_ACCOUNT_KEY, AZURE_STORAGE_SAS_TOKEN, or DefaultAzureCredential (AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, managed identity, az login) — ' +
          'and that they are current and grant Storage Blob Data Reader (Contributor, for writers) on this container, or a SAS with read, list (and write) permissions.',
        secrets,
      },
      { status: (error as { statusCode?: number }).statusCode, code: (error as { code?: string }).code ?? name, message: firstLine(message) },
    )
  }
}

function credentialsFromEnvironment(): AzureCredentials | undefined {
  const accountKey = process.env.AZURE_STORAGE_ACCOUNT_KEY ?? process.env.AZURE_STORAGE_KEY
  if (accountKey !== undefined && accountKey !== '') return { accountKey }
  const sasToken = process.env.AZURE_STORAGE_SAS_TOKEN
  if (sasToken !== undefined && sasToken !== '') return { sasToken }
  return undefined
}

/** A SAS and its signature, raw and URL-encoded, as they may appear in a message. */
function sasSecrets(sasToken: string | undefined): string[] {
  if (sasToken === undefined) return []
  const query = sasToken.replace(/^\?/, '')
  const signature = new URLSearchParams(query).get('sig') ?? ''
  return [query, signature, encodeURIComponent(signature)]
}

/** The service's message without the request id and time lines that follow it. */
function firstLine(message: string): string {
  return message.split('\n')[0] ?? message
}

async function collect(stream: NodeJS.ReadableStream | undefined): Promise<Uint8Array> {
  if (stream === undefined) return new Uint8Array(0)
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  const whole = Buffer.concat(chunks)
  return new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength)
}
