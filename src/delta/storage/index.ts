/**
 * Which {@link ObjectStore} serves a table URI: plain paths and `file://` are local folders; cloud
 * schemes are looked up in a registry and their modules loaded only when a table of that scheme is
 * opened, so a reader of local tables never loads a cloud SDK.
 */
import { SluiceError } from '../../errors.ts'
import { LocalObjectStore } from './local.ts'
import type { ObjectStore } from './object-store.ts'

export type { ObjectInfo, ObjectStore } from './object-store.ts'
export { LocalObjectStore } from './local.ts'

/** Options handed to the store of a URI's scheme (credentials, endpoint, region, ...). */
export type StorageOptions = Record<string, unknown>

export type StoreFactory = (uri: string, options: StorageOptions) => ObjectStore | Promise<ObjectStore>

/** Loads the factory of a scheme; the module is imported on first use only. */
type StoreLoader = () => Promise<StoreFactory>

/** Cloud schemes and the module (beside this file) and factory that serve them. */
const cloudStores: Record<string, { module: string; factory: string }> = {
  s3: { module: './s3.ts', factory: 'createS3Store' },
  s3a: { module: './s3.ts', factory: 'createS3Store' },
  abfss: { module: './azure.ts', factory: 'createAzureStore' },
  abfs: { module: './azure.ts', factory: 'createAzureStore' },
  az: { module: './azure.ts', factory: 'createAzureStore' },
  wasbs: { module: './azure.ts', factory: 'createAzureStore' },
  gs: { module: './gcs.ts', factory: 'createGcsStore' },
}

const registry = new Map<string, StoreLoader>(
  Object.entries(cloudStores).map(([scheme, { module, factory }]) => [scheme, () => importFactory(module, factory)]),
)

async function importFactory(module: string, name: string): Promise<StoreFactory> {
  // A computed specifier: the cloud modules are optional parts, resolved only when used.
  const loaded = (await import(new URL(module, import.meta.url).href)) as Record<string, unknown>
  const factory = loaded[name]
  if (typeof factory !== 'function') throw new Error(`${module} does not export ${name}`)
  return factory as StoreFactory
}

/** Adds or replaces the store of a URI scheme (without `://`), e.g. for an S3-compatible service under its own scheme. */
export function registerStoreScheme(scheme: string, factory: StoreFactory): void {
  registry.set(scheme.toLowerCase(), () => Promise.resolve(factory))
}

/** The store of a table URI: a folder path, `file://...`, `s3://`, `s3a://`, `abfss://` (also `abfs://`, `az://`, `wasbs://`) or `gs://`. */
export async function storeForUri(uri: string, options: StorageOptions = {}): Promise<ObjectStore> {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(uri)?.[1]?.toLowerCase()
  if (scheme === undefined || scheme === 'file') return new LocalObjectStore(uri)
  const loader = registry.get(scheme)
  if (loader === undefined) {
    throw new SluiceError('DELTA_STORAGE', `no storage for "${scheme}://" table URIs (table ${uri.split('?')[0]})`, {
      fix: `Use a local path, file://, s3://, s3a://, abfss://, az:// or gs://, or register a store for "${scheme}" with registerStoreScheme.`,
    })
  }
  let factory: StoreFactory
  try {
    factory = await loader()
  } catch (error) {
    throw new SluiceError('DELTA_STORAGE', `the storage module for "${scheme}://" could not be loaded: ${(error as Error).message}`, {
      fix: `Check that Sluice's ${scheme} storage support and its cloud SDK are installed.`,
      cause: error,
    })
  }
  return factory(uri, options)
}
