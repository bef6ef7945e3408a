/**
 * The fields whose wire type changed between two versions of a .proto file, matched by message
 * name and field number: registries (Apicurio) may refuse a Protobuf change without saying where.
 */
import protobuf from 'protobufjs'

export function changedProtobufFields(before: string, after: string): string[] {
  let old: protobuf.Root
  let next: protobuf.Root
  try {
    old = protobuf.parse(before, { keepCase: true }).root
    next = protobuf.parse(after, { keepCase: true }).root
  } catch {
    return []
  }
  const changes: string[] = []
  for (const type of messagesIn(old)) {
    const counterpart = next.lookup(type.fullName)
    if (!(counterpart instanceof protobuf.Type)) continue
    const top = type.parent === old || !(type.parent instanceof protobuf.Type)
    for (const field of type.fieldsArray) {
      const name = top ? field.name : `${type.name}.${field.name}`
      const now = counterpart.fieldsById[field.id]
      if (now === undefined) changes.push(`${name} (field ${field.id} removed)`)
      else if (shape(now) !== shape(field)) changes.push(`${name} (${shape(field)} → ${shape(now)})`)
    }
  }
  return changes
}

function shape(field: protobuf.Field): string {
  const keyType = (field as unknown as { keyType?: string }).keyType
  return `${field.repeated ? 'repeated ' : ''}${keyType !== undefined ? `map<${keyType}, ${field.type}>` : field.type}`
}

function messagesIn(namespace: protobuf.NamespaceBase): protobuf.Type[] {
  return namespace.nestedArray.flatMap((nested) => [
    ...(nested instanceof protobuf.Type ? [nested] : []),
    ...(nested instanceof protobuf.Namespace || nested instanceof protobuf.Type ? messagesIn(nested) : []),
  ])
}
