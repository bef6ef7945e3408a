/**
 * Where a Databricks workspace is and how to authenticate to it, resolved the way the Databricks
 * CLI and SDKs do ("unified client authentication"): each setting comes from the options in code,
 * else from the `DATABRICKS_*` environment variables, else from the configuration profile
 * (`DATABRICKS_CONFIG_PROFILE` or `DEFAULT` in `~/.databrickscfg`). Then the first authentication
 * method that is fully configured wins, in the documented order: personal access token, then OAuth
 * machine-to-machine (service principal client id and secret).
 */
import { inspect } from 'node:util'
import { SluiceError } from '../errors.ts'
import { profileFilePath, readProfileFile, type Profile } from './profile-file.ts'

/** Receives Sluice's Databricks log lines (a pino logger fits). Lines never contain secrets. */
export interface DatabricksLogger {
  debug(message: string): void
  warn(message: string): void
}

export interface DatabricksOptions {
  /** Workspace URL, e.g. `https://dbc-a1b2c3d4-e5f6.cloud.databricks.com`. Env `DATABRICKS_HOST`, profile `host`. */
  host?: string
  /** Personal access token. Env `DATABRICKS_TOKEN`, profile `token`. */
  token?: string
  /** OAuth M2M: the service principal's application id. Env `DATABRICKS_CLIENT_ID`, profile `client_id`. */
  clientId?: string
  /** OAuth M2M: the service principal's OAuth secret. Env `DATABRICKS_CLIENT_SECRET`, profile `client_secret`. */
  clientSecret?: string
  /** Profile in the configuration file. Env `DATABRICKS_CONFIG_PROFILE`; default `DEFAULT`. */
  profile?: string
  /** Configuration file. Env `DATABRICKS_CONFIG_FILE`; default `~/.databrickscfg`. */
  configFile?: string
  /** Force one method instead of the first configured one. Env `DATABRICKS_AUTH_TYPE`, profile `auth_type`. */
  authType?: 'pat' | 'oauth-m2m'
  /** Time limit of one HTTP request in ms. Default 60000. */
  requestTimeoutMs?: number
  /** Time limit of one API call including all its retries, in ms. Default 300000. */
  callTimeoutMs?: number
  /** Retries of a call answered 429/503 or cut off by a connection reset. Default 6. */
  maxRetries?: number
  /** First retry delay in ms when the server gives no Retry-After; doubles each retry (with jitter). Default 500. */
  retryBaseDelayMs?: number
  logger?: DatabricksLogger
  /** Environment to read instead of `process.env` (for embedding and tests). */
  env?: NodeJS.ProcessEnv
}

export type DatabricksAuthSettings =
  | { readonly kind: 'pat'; readonly token: string; readonly origin: string }
  | { readonly kind: 'oauth-m2m'; readonly clientId: string; readonly clientSecret: string; readonly origin: string }

/** A resolved configuration. Prints (inspect, JSON) with its secrets redacted. */
export class DatabricksConfig {
  readonly host: string
  readonly requestTimeoutMs: number
  readonly callTimeoutMs: number
  readonly maxRetries: number
  readonly retryBaseDelayMs: number
  readonly logger: DatabricksLogger | undefined
  readonly #auth: DatabricksAuthSettings

  constructor(host: string, auth: DatabricksAuthSettings, options: DatabricksOptions) {
    this.host = host
    this.#auth = auth
    this.requestTimeoutMs = positive(options.requestTimeoutMs, 60_000, 'requestTimeoutMs')
    this.callTimeoutMs = positive(options.callTimeoutMs, 300_000, 'callTimeoutMs')
    this.maxRetries = positive(options.maxRetries, 6, 'maxRetries', true)
    this.retryBaseDelayMs = positive(options.retryBaseDelayMs, 500, 'retryBaseDelayMs', true)
    this.logger = options.logger
  }

  /** The authentication settings, secrets included: only for the code that authenticates. */
  get auth(): DatabricksAuthSettings {
    return this.#auth
  }

  /** Every secret of this configuration, for redaction. */
  secrets(): string[] {
    return this.#auth.kind === 'pat' ? [this.#auth.token] : [this.#auth.clientSecret]
  }

  toJSON(): Record<string, unknown> {
    const auth = this.#auth
    return {
      host: this.host,
      auth: auth.kind === 'pat'
        ? { kind: auth.kind, token: '***', origin: auth.origin }
        : { kind: auth.kind, clientId: auth.clientId, clientSecret: '***', origin: auth.origin },
      requestTimeoutMs: this.requestTimeoutMs,
      callTimeoutMs: this.callTimeoutMs,
      maxRetries: this.maxRetries,
    }
  }

  [inspect.custom](): string {
    return `DatabricksConfig ${inspect(this.toJSON(), { depth: 3 })}`
  }
}

/** Resolves options, environment and profile into a configuration, or says what is missing. */
export async function resolveDatabricksConfig(options: DatabricksOptions = {}): Promise<DatabricksConfig> {
  const env = options.env ?? process.env
  const filePath = options.configFile ?? profileFilePath(env)
  const explicitProfile = options.profile ?? nonEmpty(env.DATABRICKS_CONFIG_PROFILE)
  const profileName = explicitProfile ?? 'DEFAULT'
  const profiles = await readProfileFile(filePath)
  const profile: Profile = profiles?.get(profileName) ?? {}
  if (explicitProfile !== undefined && profiles?.get(profileName) === undefined) {
    throw new SluiceError('CONFIG_INVALID', `Databricks profile "${profileName}" is not in ${filePath}${profiles === undefined ? ' (the file does not exist)' : ` (it has: ${[...profiles.keys()].join(', ') || 'no profiles'})`}`, {
      fix: 'Name an existing profile (option profile or DATABRICKS_CONFIG_PROFILE), or add it with `databricks configure --profile NAME`.',
    })
  }
  const where = `profile [${profileName}] in ${filePath}`
  const setting = (option: string | undefined, optionName: string, envName: string, key: string) => {
    if (nonEmpty(option) !== undefined) return { value: option!, origin: `option ${optionName}` }
    if (nonEmpty(env[envName]) !== undefined) return { value: env[envName]!, origin: envName }
    if (nonEmpty(profile[key]) !== undefined) return { value: profile[key]!, origin: `${key} of ${where}` }
    return undefined
  }

  const host = setting(options.host, 'host', 'DATABRICKS_HOST', 'host')
  if (host === undefined) {
    throw new SluiceError('DATABRICKS_AUTH', `No Databricks workspace host is configured (looked at option host, DATABRICKS_HOST and ${where})`, {
      fix: 'Set DATABRICKS_HOST to your workspace URL (https://<workspace>.cloud.databricks.com), or add host = … to the profile.',
    })
  }
  const token = setting(options.token, 'token', 'DATABRICKS_TOKEN', 'token')
  const clientId = setting(options.clientId, 'clientId', 'DATABRICKS_CLIENT_ID', 'client_id')
  const clientSecret = setting(options.clientSecret, 'clientSecret', 'DATABRICKS_CLIENT_SECRET', 'client_secret')
  const forced = options.authType ?? authTypeSetting(nonEmpty(env.DATABRICKS_AUTH_TYPE) ?? profile.auth_type)

  let auth: DatabricksAuthSettings | undefined
  if ((forced === undefined || forced === 'pat') && token !== undefined) {
    auth = { kind: 'pat', token: token.value, origin: token.origin }
  } else if ((forced === undefined || forced === 'oauth-m2m') && clientId !== undefined && clientSecret !== undefined) {
    auth = { kind: 'oauth-m2m', clientId: clientId.value, clientSecret: clientSecret.value, origin: `${clientId.origin} and ${clientSecret.origin}` }
  }
  if (auth === undefined) {
    const wanted = forced === 'oauth-m2m' ? 'an OAuth client id and secret' : forced === 'pat' ? 'a personal access token' : 'a personal access token or an OAuth client id and secret'
    throw new SluiceError('DATABRICKS_AUTH', `No Databricks credentials for ${host.value}: ${wanted} is needed and none is configured (looked at the options, the DATABRICKS_* environment and ${where})`, {
      fix: 'Set DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET of a service principal, or add token = … (or client_id/client_secret) to the profile.',
    })
  }
  return new DatabricksConfig(normalizeHost(host.value, host.origin), auth, options)
}

/** `https://` is assumed when no scheme is given; a trailing slash is dropped. */
export function normalizeHost(host: string, origin: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(host) ? host : `https://${host}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new SluiceError('CONFIG_INVALID', `The Databricks host from ${origin} ("${host}") is not a URL`, {
      fix: 'Give the workspace URL, e.g. https://dbc-a1b2c3d4-e5f6.cloud.databricks.com.',
    })
  }
  return url.origin
}

function authTypeSetting(value: string | undefined): 'pat' | 'oauth-m2m' | undefined {
  if (value === undefined) return undefined
  if (value === 'pat') return 'pat'
  if (value === 'oauth-m2m') return 'oauth-m2m'
  throw new SluiceError('CONFIG_INVALID', `Databricks auth type "${value}" is not supported by Sluice`, {
    fix: 'Use auth_type / DATABRICKS_AUTH_TYPE "pat" or "oauth-m2m", or leave it unset.',
  })
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value
}

function positive(value: number | undefined, fallback: number, name: string, zeroAllowed = false): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value < 0 || (!zeroAllowed && value === 0)) {
    throw new SluiceError('CONFIG_INVALID', `Databricks option ${name} is ${value}`, { fix: `Give ${name} as a ${zeroAllowed ? 'non-negative' : 'positive'} number.` })
  }
  return value
}
