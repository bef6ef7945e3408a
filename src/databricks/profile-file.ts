/**
 * Reads Databricks configuration profiles: the INI file `~/.databrickscfg` (or `DATABRICKS_CONFIG_FILE`)
 * that the Databricks CLI and SDKs share. Each `[section]` is a profile; `DEFAULT` is the default one.
 */
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { SluiceError } from '../errors.ts'

export type Profile = Readonly<Record<string, string>>

/** The profile file's path: `DATABRICKS_CONFIG_FILE`, else `~/.databrickscfg` (a leading `~` is expanded). */
export function profileFilePath(env: NodeJS.ProcessEnv): string {
  const configured = env.DATABRICKS_CONFIG_FILE
  if (configured === undefined || configured === '') return join(homedir(), '.databrickscfg')
  return configured.startsWith('~') ? join(homedir(), configured.slice(1)) : configured
}

/** All profiles of the file, or `undefined` when the file does not exist. */
export async function readProfileFile(path: string): Promise<Map<string, Profile> | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new SluiceError('CONFIG_INVALID', `Cannot read the Databricks profile file ${path}: ${(error as Error).message}`, {
      fix: 'Make the file readable, or point DATABRICKS_CONFIG_FILE at another file.',
      cause: error,
    })
  }
  return parseProfiles(text, path)
}

/** Parses INI text: `[name]` sections, `key = value` lines, `#` and `;` comments. */
export function parseProfiles(text: string, path: string): Map<string, Profile> {
  const profiles = new Map<string, Record<string, string>>()
  let current: Record<string, string> | undefined
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return
    const section = /^\[(.+)\]$/.exec(line)
    if (section !== null) {
      const name = section[1]!.trim()
      current = profiles.get(name) ?? {}
      profiles.set(name, current)
      return
    }
    const separator = line.search(/[=:]/)
    if (current === undefined || separator <= 0) {
      // The line's content may be a secret: say where, never what.
      throw new SluiceError('CONFIG_INVALID', `Line ${index + 1} of the Databricks profile file ${path} is neither a [profile] header nor a key = value setting`, {
        fix: 'Fix that line: every setting belongs under a [profile] header and has the form key = value.',
      })
    }
    current[line.slice(0, separator).trim().toLowerCase()] = line.slice(separator + 1).trim()
  })
  return profiles
}
