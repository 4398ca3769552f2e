/**
 * Decodes the few protobuf request bodies clients send to the review APIs (`kubectl auth can-i` and `kubectl auth
 * whoami` post theirs as `application/vnd.kubernetes.protobuf`) into the JSON shape the JSON API takes.
 * Format: the 4-byte magic `k8s\0`, then a runtime.Unknown {1: TypeMeta {1: apiVersion, 2: kind}, 2: raw object}.
 * Field numbers are those of k8s.io/api's generated.proto. Other kinds are not decoded.
 */

type FieldType = "string" | "strings" | "extraMap" | Schema;
interface Schema {
  [fieldNumber: number]: [name: string, type: FieldType];
}

const RESOURCE_ATTRIBUTES: Schema = {
  1: ["namespace", "string"],
  2: ["verb", "string"],
  3: ["group", "string"],
  4: ["version", "string"],
  5: ["resource", "string"],
  6: ["subresource", "string"],
  7: ["name", "string"],
};
const NON_RESOURCE_ATTRIBUTES: Schema = { 1: ["path", "string"], 2: ["verb", "string"] };
const OBJECT_SCHEMAS: Record<string, Schema> = {
  "authorization.k8s.io/v1 SelfSubjectAccessReview": {
    2: [
      "spec",
      { 1: ["resourceAttributes", RESOURCE_ATTRIBUTES], 2: ["nonResourceAttributes", NON_RESOURCE_ATTRIBUTES] },
    ],
  },
  "authorization.k8s.io/v1 SubjectAccessReview": {
    2: [
      "spec",
      {
        1: ["resourceAttributes", RESOURCE_ATTRIBUTES],
        2: ["nonResourceAttributes", NON_RESOURCE_ATTRIBUTES],
        3: ["user", "string"],
        4: ["groups", "strings"],
        5: ["extra", "extraMap"],
        6: ["uid", "string"],
      },
    ],
  },
  "authentication.k8s.io/v1 SelfSubjectReview": {},
  "authentication.k8s.io/v1 TokenReview": { 2: ["spec", { 1: ["token", "string"], 2: ["audiences", "strings"] }] },
};
const MAGIC = [0x6b, 0x38, 0x73, 0x00];
const UNKNOWN: Schema = {
  1: ["typeMeta", { 1: ["apiVersion", "string"], 2: ["kind", "string"] }],
  2: ["raw", "string"],
};

/** A body that is not one of the decodable kinds, or not valid protobuf. */
export class UndecodableProtobufError extends Error {
  override name = "UndecodableProtobufError";
}

/** The JSON form (`{apiVersion, kind, spec}`) of a protobuf-encoded review body. */
export function decodeKubernetesProtobuf(bytes: Uint8Array): Record<string, unknown> {
  if (bytes.length < 4 || MAGIC.some((byte, index) => bytes[index] !== byte))
    throw new UndecodableProtobufError("missing the k8s protobuf magic");
  const rawFields = new Map<number, Uint8Array>();
  const envelope = decodeMessage(bytes.subarray(4), UNKNOWN, rawFields);
  const typeMeta = (envelope.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const schema = OBJECT_SCHEMAS[`${typeMeta.apiVersion} ${typeMeta.kind}`];
  const raw = rawFields.get(2);
  if (!schema || !raw)
    throw new UndecodableProtobufError(`cannot decode ${typeMeta.apiVersion} ${typeMeta.kind} from protobuf`);
  return { apiVersion: typeMeta.apiVersion, kind: typeMeta.kind, ...decodeMessage(raw, schema) };
}

function decodeMessage(
  bytes: Uint8Array,
  schema: Schema,
  rawFields?: Map<number, Uint8Array>,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  let offset = 0;
  const readVarint = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      if (offset >= bytes.length || shift > 49) throw new UndecodableProtobufError("truncated varint");
      const byte = bytes[offset++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
  };
  while (offset < bytes.length) {
    const key = readVarint();
    const fieldNumber = Math.floor(key / 8);
    const wireType = key % 8;
    if (wireType === 0) {
      readVarint();
      continue;
    }
    if (wireType === 1 || wireType === 5) {
      offset += wireType === 1 ? 8 : 4;
      continue;
    }
    if (wireType !== 2) throw new UndecodableProtobufError(`unsupported wire type ${wireType}`);
    const length = readVarint();
    if (offset + length > bytes.length) throw new UndecodableProtobufError("truncated field");
    const value = bytes.subarray(offset, offset + length);
    offset += length;
    rawFields?.set(fieldNumber, value);
    const field = schema[fieldNumber];
    if (!field) continue;
    const [name, type] = field;
    if (type === "string") result[name] = new TextDecoder().decode(value);
    else if (type === "strings")
      result[name] = [...((result[name] as string[] | undefined) ?? []), new TextDecoder().decode(value)];
    else if (type === "extraMap") {
      const entry = decodeMessage(value, { 1: ["key", "string"], 2: ["value", { 1: ["items", "strings"] }] });
      const extra = (result[name] as Record<string, string[]> | undefined) ?? {};
      extra[String(entry.key ?? "")] = (entry.value as { items?: string[] } | undefined)?.items ?? [];
      result[name] = extra;
    } else result[name] = decodeMessage(value, type);
  }
  return result;
}
