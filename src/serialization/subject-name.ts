/**
 * Subject name strategies: under which registry subject a topic's key or value schema lives.
 * The same three as Confluent's serializers, with the same names and results.
 */

export type SubjectNameStrategy = (topic: string, isKey: boolean, recordName: string | undefined) => string

/** `<topic>-key` / `<topic>-value`: one schema per topic (the default everywhere). */
export const topicNameStrategy: SubjectNameStrategy = (topic, isKey) => `${topic}-${isKey ? 'key' : 'value'}`

/** `<record full name>`: one record type shared by many topics. */
export const recordNameStrategy: SubjectNameStrategy = (topic, isKey, recordName) => requireRecordName(recordName, 'RecordNameStrategy')

/** `<topic>-<record full name>`: several record types on one topic. */
export const topicRecordNameStrategy: SubjectNameStrategy = (topic, isKey, recordName) => `${topic}-${requireRecordName(recordName, 'TopicRecordNameStrategy')}`

function requireRecordName(recordName: string | undefined, strategy: string): string {
  if (recordName === undefined) {
    throw new Error(`${strategy} needs a record name, but this schema has none (it is not an Avro record, Protobuf message or titled JSON Schema)`)
  }
  return recordName
}
