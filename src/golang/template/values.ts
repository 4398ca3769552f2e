/**
 * Runtime values of the `<< >>` template engine and the Go semantics that apply to them: truth, field access,
 * `len`, `index` and the comparison functions, as in Go text/template (exec.go, funcs.go).
 */
import { TemplateExecutionError } from "./errors.ts";

/** A `map[string]string`. NB: build it with Object.create(null) or a literal; only own properties are keys. */
export type StringMap = Readonly<Record<string, string>>;

/** The data a template executes on: field name -> string, `[]string` or `map[string]string`. */
export type TemplateData = Readonly<Record<string, string | readonly string[] | StringMap>>;

/** The top-level data (Go's struct): printed as `{v1 v2 ...}` in field order. */
export class TemplateRoot {
  constructor(
    readonly data: TemplateData,
    /** Field names in schema order, for printing. */
    readonly fieldNames: readonly string[],
  ) {}
}

/**
 * A value during execution. `number` is a Go int (literals, `len`, range counters); `null` is Go's nil / missing
 * value (a missing map key read as a field, the `nil` literal).
 */
export type TemplateValue = string | number | boolean | null | readonly string[] | StringMap | TemplateRoot;

export function isStringMap(value: TemplateValue): value is StringMap {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof TemplateRoot);
}

/** Go's name of the value's type, for messages. */
export function goTypeName(value: TemplateValue): string {
  if (value === null) return "<nil>";
  if (typeof value === "string") return "string";
  if (typeof value === "number") return "int";
  if (typeof value === "boolean") return "bool";
  if (Array.isArray(value)) return "[]string";
  return value instanceof TemplateRoot ? "struct" : "map[string]string";
}

function failCall(functionName: string, detail: string): never {
  throw new TemplateExecutionError(`error calling ${functionName}: ${detail}`);
}

/** Go truth: false for "", 0, false, nil, empty slice or map; true for everything else (the root included). */
export function isTrue(value: TemplateValue): boolean {
  if (value === null) return false;
  switch (typeof value) {
    case "string":
      return value.length > 0;
    case "number":
      return value !== 0;
    case "boolean":
      return value;
  }
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof TemplateRoot) return true;
  for (const key in value) if (Object.hasOwn(value, key)) return true;
  return false;
}

/** The field of the root, or the key of a map (nil when missing), as Go's evalField. */
export function fieldOf(receiver: TemplateValue, name: string): TemplateValue {
  if (receiver instanceof TemplateRoot) {
    const value = receiver.data[name];
    if (value === undefined) {
      const detail = receiver.fieldNames.includes(name)
        ? `no value for field .${name} in the template data`
        : `can't evaluate field ${name} in type struct`;
      throw new TemplateExecutionError(detail);
    }
    return value;
  }
  if (receiver === null) return null;
  if (isStringMap(receiver)) return Object.hasOwn(receiver, name) ? (receiver[name] ?? null) : null;
  throw new TemplateExecutionError(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
}

/** Rank of a UTF-16 code unit such that ranks order like code points (and so like Go's UTF-8 bytes). */
function codeUnitRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  return unit >= 0xe000 ? unit - 0x800 : unit;
}

/** Compares strings as Go does (bytewise UTF-8, which is code point order): negative, zero or positive. */
export function compareGoStrings(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codeUnitRank(x) - codeUnitRank(y);
  }
  return a.length - b.length;
}

/** The map's keys in Go's printing and ranging order. */
export function sortedKeys(map: StringMap): string[] {
  return Object.keys(map).sort(compareGoStrings);
}

const UTF8_ENCODER = new TextEncoder();
const ASCII_ONLY = /^[\x00-\x7f]*$/;

/** Length of the string in UTF-8 bytes (Go's `len` of a string). */
export function utf8Length(text: string): number {
  return ASCII_ONLY.test(text) ? text.length : UTF8_ENCODER.encode(text).length;
}

/** Go `len`: bytes of a string, elements of a slice or map. */
export function goLen(value: TemplateValue): number {
  if (typeof value === "string") return utf8Length(value);
  if (Array.isArray(value)) return value.length;
  if (isStringMap(value)) return Object.keys(value).length;
  return failCall("len", value === null ? "len of untyped nil" : `len of type ${goTypeName(value)}`);
}

function indexPosition(index: TemplateValue, length: number): number {
  if (typeof index !== "number") {
    return failCall(
      "index",
      index === null ? "cannot index slice/array with nil" : `cannot index slice/array with type ${goTypeName(index)}`,
    );
  }
  if (index < 0 || index >= length) failCall("index", `index out of range: ${index}`);
  return index;
}

/** Go `index item k1 k2...`: a missing map key gives "" (the zero value); a string index gives a byte. */
export function goIndex(item: TemplateValue, indexes: readonly TemplateValue[]): TemplateValue {
  if (item === null) failCall("index", "index of untyped nil");
  let current: TemplateValue = item;
  for (const index of indexes) {
    if (typeof current === "string") {
      const bytes = UTF8_ENCODER.encode(current);
      current = bytes[indexPosition(index, bytes.length)] ?? 0;
    } else if (Array.isArray(current)) {
      const list: readonly string[] = current;
      current = list[indexPosition(index, list.length)] ?? "";
    } else if (isStringMap(current)) {
      if (typeof index !== "string") {
        failCall(
          "index",
          index === null
            ? "value is nil; should be of type string"
            : `value has type ${goTypeName(index)}; should be string`,
        );
      }
      current = Object.hasOwn(current, index) ? (current[index] ?? "") : "";
    } else {
      failCall("index", `can't index item of type ${goTypeName(current)}`);
    }
  }
  return current;
}

type BasicKind = "bool" | "int" | "string" | "invalid";

function basicKind(value: TemplateValue): BasicKind {
  switch (typeof value) {
    case "boolean":
      return "bool";
    case "number":
      return "int";
    case "string":
      return "string";
    default:
      return "invalid";
  }
}

/** Go `eq a b c...`: a == b || a == c...; basic values of different kinds do not compare. */
export function goEq(first: TemplateValue, others: readonly TemplateValue[], functionName = "eq"): boolean {
  if (others.length === 0) failCall(functionName, "missing argument for comparison");
  const firstKind = basicKind(first);
  for (const other of others) {
    const otherKind = basicKind(other);
    if (firstKind !== otherKind) {
      if (first !== null && other !== null) {
        failCall(functionName, `incompatible types for comparison: ${goTypeName(first)} and ${goTypeName(other)}`);
      }
    } else if (firstKind !== "invalid" || first === null || other === null) {
      if (first === other) return true;
    } else {
      const firstType = goTypeName(first);
      const otherType = goTypeName(other);
      failCall(
        functionName,
        firstType === otherType
          ? `non-comparable type ${otherType}`
          : `non-comparable types ${firstType} and ${otherType}`,
      );
    }
  }
  return false;
}

function goLess(functionName: string, a: TemplateValue, b: TemplateValue): boolean {
  const kindA = basicKind(a);
  const kindB = basicKind(b);
  if (kindA === "invalid" || kindB === "invalid") failCall(functionName, "invalid type for comparison");
  if (kindA !== kindB)
    failCall(functionName, `incompatible types for comparison: ${goTypeName(a)} and ${goTypeName(b)}`);
  if (typeof a === "number" && typeof b === "number") return a < b;
  if (typeof a === "string" && typeof b === "string") return compareGoStrings(a, b) < 0;
  return failCall(functionName, "invalid type for comparison");
}

/** Go's ordered comparisons; `ne` is the negation of a two-argument `eq`. */
export function goCompare(functionName: "ne" | "lt" | "le" | "gt" | "ge", a: TemplateValue, b: TemplateValue): boolean {
  switch (functionName) {
    case "ne":
      return !goEq(a, [b], "ne");
    case "lt":
      return goLess("lt", a, b);
    case "ge":
      return !goLess("ge", a, b);
    case "le":
      return goLess("le", a, b) || goEq(a, [b], "le");
    case "gt":
      return !(goLess("gt", a, b) || goEq(a, [b], "gt"));
  }
}

const UTF8_DECODER = new TextDecoder("utf-8");

/**
 * Go `slice item i j k`: `item[i:j:k]` of a string (by UTF-8 bytes; a cut inside a character gives U+FFFD) or a
 * slice. Strings take at most two indexes.
 */
export function goSlice(item: TemplateValue, indexes: readonly TemplateValue[]): TemplateValue {
  if (item === null) failCall("slice", "slice of untyped nil");
  if (indexes.length > 3) failCall("slice", `too many slice indexes: ${indexes.length}`);
  let length: number;
  let bytes: Uint8Array | null = null;
  if (typeof item === "string") {
    if (indexes.length === 3) failCall("slice", "cannot 3-index slice a string");
    bytes = UTF8_ENCODER.encode(item);
    length = bytes.length;
  } else if (Array.isArray(item)) {
    length = item.length;
  } else {
    return failCall("slice", `can't slice item of type ${goTypeName(item)}`);
  }
  const cut = [0, length];
  indexes.forEach((index, i) => {
    if (typeof index !== "number") {
      const type = index === null ? "nil" : `type ${goTypeName(index)}`;
      failCall("slice", `cannot index slice/array with ${type}`);
    }
    if (index < 0 || index > length) failCall("slice", `index out of range: ${index}`);
    cut[i] = index;
  });
  const [from = 0, to = length] = cut;
  if (from > to) failCall("slice", `invalid slice index: ${from} > ${to}`);
  if (indexes.length === 3 && typeof indexes[2] === "number" && to > indexes[2]) {
    failCall("slice", `invalid slice index: ${to} > ${indexes[2]}`);
  }
  if (bytes !== null) return UTF8_DECODER.decode(bytes.subarray(from, to));
  return (item as readonly string[]).slice(from, to);
}
