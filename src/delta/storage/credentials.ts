/**
 * Temporary credentials with an expiry, such as those Unity Catalog vends for a table, kept fresh
 * through the caller's refresh callback: a new set is fetched shortly before the current one
 * expires, once however many requests ask at the same time.
 */
import { SluiceError } from '../../errors.ts'

export interface Expiring {
  /** When the credentials stop working (a Date or milliseconds since the epoch); absent when they do not expire. */
  readonly expiresAt?: Date | number
}

/** Fetches a new set of credentials (e.g. calls Unity Catalog's temporary-table-credentials API). */
export type RefreshCredentials<T extends Expiring> = () => Promise<T>

/** Fetch new credentials this long before the current ones expire, so no request carries expired ones. */
const refreshMarginMs = 60_000

export class RefreshingCredentials<T extends Expiring> {
  private current: T | undefined
  private pending: Promise<T> | undefined
  private readonly refresh: RefreshCredentials<T> | undefined
  private readonly root: string
  private readonly check: (credentials: T) => void

  /** `root` names the table in messages; `check` throws on credentials of the wrong shape. */
  constructor(initial: T | undefined, refresh: RefreshCredentials<T> | undefined, root: string, check: (credentials: T) => void) {
    this.current = initial
    this.refresh = refresh
    this.root = root
    this.check = check
    if (initial !== undefined) check(initial)
  }

  /** Credentials valid for at least the refresh margin, refreshed first when needed. */
  async get(): Promise<T> {
    const current = this.current
    if (current !== undefined && !expiresSoon(current)) return current
    if (this.refresh === undefined) {
      if (current !== undefined && expiresAt(current) > Date.now()) return current
      throw new SluiceError('DELTA_STORAGE', `the credentials for ${this.root} expired at ${new Date(expiresAt(current)).toISOString()}`, {
        fix: 'Pass refreshCredentials (a callback returning new temporary credentials, e.g. from Unity Catalog) or credentials that do not expire.',
      })
    }
    this.pending ??= this.fetch(this.refresh)
    return this.pending
  }

  private async fetch(refresh: RefreshCredentials<T>): Promise<T> {
    try {
      const fresh = await refresh()
      this.check(fresh)
      this.current = fresh
      return fresh
    } catch (error) {
      throw new SluiceError('DELTA_STORAGE', `refreshing the credentials for ${this.root} failed: ${(error as Error).message}`, {
        fix: 'Check the refreshCredentials callback (for Unity Catalog: the token and the EXTERNAL USE SCHEMA / READ privileges).',
        cause: error,
        retriable: true,
      })
    } finally {
      this.pending = undefined
    }
  }
}

function expiresAt(credentials: Expiring | undefined): number {
  const at = credentials?.expiresAt
  if (at === undefined) return Number.POSITIVE_INFINITY
  return typeof at === 'number' ? at : at.getTime()
}

function expiresSoon(credentials: Expiring): boolean {
  return expiresAt(credentials) - refreshMarginMs <= Date.now()
}
