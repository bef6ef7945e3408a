/**
 * Which tables this reader may read: the protocol's reader version and reader features. A table
 * that needs anything else is refused with DELTA_UNSUPPORTED_FEATURE naming it — never read wrongly.
 */
import { SluiceError } from '../errors.ts'
import type { Protocol } from './log/actions.ts'

/** Reader features Sluice implements (protocol "Valid Feature Names in Table Features"). */
export const SUPPORTED_READER_FEATURES: readonly string[] = [
  'columnMapping',
  'deletionVectors',
  'timestampNtz',
  'v2Checkpoint',
  'vacuumProtocolCheck',
  'typeWidening',
  'typeWidening-preview',
]

const MAX_READER_VERSION = 3

export function checkReadable(protocol: Protocol, tableRoot: string): void {
  if (protocol.minReaderVersion > MAX_READER_VERSION) {
    throw new SluiceError('DELTA_UNSUPPORTED_FEATURE', `the table at ${tableRoot} needs reader version ${protocol.minReaderVersion}; Sluice reads versions 1 to ${MAX_READER_VERSION}`, {
      fix: 'Read this table with a newer Delta engine, or ask its owner whether the protocol upgrade is needed.',
    })
  }
  if (protocol.minReaderVersion < 3) return
  const unsupported = (protocol.readerFeatures ?? []).filter((feature) => !SUPPORTED_READER_FEATURES.includes(feature))
  if (unsupported.length > 0) {
    throw new SluiceError('DELTA_UNSUPPORTED_FEATURE', `the table at ${tableRoot} uses reader feature${unsupported.length > 1 ? 's' : ''} ${unsupported.map((f) => `"${f}"`).join(', ')}, which Sluice does not support (it supports ${SUPPORTED_READER_FEATURES.join(', ')})`, {
      fix: 'Read this table with an engine that supports the feature, or drop the feature from the table (ALTER TABLE ... DROP FEATURE) if its owner agrees.',
    })
  }
}
