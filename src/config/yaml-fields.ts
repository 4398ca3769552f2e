/**
 * Strict, located reading of YAML nodes, as Go's `yaml.UnmarshalStrict` reads (yaml.v2, upstream's reader): mappings
 * with exactly the known keys, no duplicate keys, merge keys expanded, YAML 1.1 booleans and nulls, and every
 * problem reported as a ConfigIssue with the node's line and column. The rules format's own sections are read on
 * top of this (load.ts, query-options.ts, backends.ts).
 */
import { Alias, isMap, isScalar, isSeq, type Document, type Node, type Scalar, type YAMLMap } from "yaml";
import type { ConfigIssue } from "./errors.ts";

/** 1-based position of a node in the file. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** Where a scalar's text starts in the file, when characters of its value map one to one onto the source. */
export interface ValueSpan {
  readonly position: SourcePosition;
  /** Column shift of the value's first character (1 after an opening quote); null when offsets cannot be mapped. */
  readonly shift: number | null;
}

/** What the readers report into and remember positions in. */
export interface YamlFieldsContext {
  readonly doc: Document | undefined;
  readonly file: string;
  /** Receives every problem found. */
  readonly issues: ConfigIssue[];
  /** Receives where each path's value was written. */
  readonly positions: Map<string, ValueSpan>;
  /** Line and column (1-based) of a character offset. */
  readonly at: (offset: number | undefined) => SourcePosition;
  /** The file's text. */
  readonly text: string;
}

/** Typed readers of YAML nodes; each reports a located issue and returns an empty value when the node is wrong. */
export interface YamlFields {
  issue(node: Node | null | undefined, path: string, message: string): void;
  /** Follows aliases; null for a missing node or a YAML null. */
  resolve(node: unknown): Node | null;
  /** A mapping with exactly the given keys; unknown and duplicate keys are reported. */
  fields(node: Node | null, path: string, known: readonly string[]): Map<string, Node | null>;
  string(node: Node | null | undefined, path: string, required: false): string;
  string(node: Node | null | undefined, path: string, required: true, parent: Node | null): string;
  boolean(node: Node | null | undefined, path: string): boolean | undefined;
  list(node: Node | null | undefined, path: string): Node[];
  finiteNumber(node: Node | null | undefined, path: string): number | undefined;
  /** A mapping whose keys the user chooses; each value is read by `read`. */
  userMap<T>(
    node: Node | null,
    path: string,
    read: (value: Node | null, entryPath: string, keyNode: Node | null) => T,
  ): Record<string, T>;
  /** A mapping of string keys to string values (any scalar, kept as its source text). */
  stringMap(node: Node | null, path: string): Record<string, string>;
}

export function createYamlFields({ doc, file, issues, positions, at, text }: YamlFieldsContext): YamlFields {
  const issue = (node: Node | null | undefined, path: string, message: string) => {
    const { line, column } = at(node?.range?.[0]);
    issues.push({ file, line, column, path, message });
  };
  const resolve = (node: unknown): Node | null => {
    let current = node;
    while (current instanceof Alias) current = doc ? current.resolve(doc) : undefined;
    if (current === undefined || current === null) return null;
    if (isScalar(current) && isNullScalar(current)) return null;
    return current as Node;
  };
  const remember = (node: Node | null, path: string) => {
    if (!node?.range) return;
    positions.set(path, { position: at(node.range[0]), shift: valueShift(node, text) });
  };

  /**
   * The pairs of a mapping with merge keys (`<<: *base`, `<<: [*a, *b]`) expanded in place, in the order yaml.v2
   * applies them: later pairs overwrite earlier ones, and in a list of merged mappings the first one wins. Merged
   * pairs are marked so that only keys written twice in the mapping itself count as duplicates.
   */
  function mergedPairs(node: YAMLMap, path: string, depth = 0): { key: unknown; value: unknown; merged: boolean }[] {
    const out: { key: unknown; value: unknown; merged: boolean }[] = [];
    for (const pair of node.items) {
      const keyNode = resolve(pair.key);
      if (!(keyNode && isScalar(keyNode) && keyNode.type === "PLAIN" && keyNode.value === MERGE_KEY)) {
        out.push({ key: pair.key, value: pair.value, merged: depth > 0 });
        continue;
      }
      const value = resolve(pair.value);
      const sources = value !== null && isSeq(value) ? value.items.map((item) => resolve(item)).reverse() : [value];
      for (const source of sources) {
        if (source === null || !isMap(source) || depth >= MAX_MERGE_DEPTH) {
          issue(source ?? keyNode, path, "map merge requires map or sequence of maps as the value");
          continue;
        }
        for (const merged of mergedPairs(source, path, depth + 1)) out.push({ ...merged, merged: true });
      }
    }
    return out;
  }

  /**
   * The entries of a mapping `node`, merge keys expanded, each key written once in the mapping itself (a duplicate is
   * reported). Keys must be strings; `userKeys` (keys the user chooses, such as header names) must also be non-empty.
   */
  function eachEntry(
    node: YAMLMap,
    path: string,
    { userKeys }: { userKeys: boolean },
    visit: (key: string, keyNode: Node | null, value: Node | null) => void,
  ): void {
    const explicit = new Set<string>();
    for (const pair of mergedPairs(node, path)) {
      const keyNode = resolve(pair.key);
      const key = keyNode && isScalar(keyNode) ? String(keyNode.value) : undefined;
      if (key === undefined || (userKeys && key === "")) {
        issue(keyNode ?? node, path, userKeys ? "keys must be non-empty strings" : "mapping keys must be strings");
        continue;
      }
      if (!pair.merged) {
        if (explicit.has(key)) {
          issue(keyNode, path, `duplicate key "${key}"`);
          continue;
        }
        explicit.add(key);
      }
      visit(key, keyNode, resolve(pair.value));
    }
  }

  /** Reads a mapping with exactly the given keys; reports unknown and duplicate keys. */
  function fields(node: Node | null, path: string, known: readonly string[]): Map<string, Node | null> {
    const out = new Map<string, Node | null>();
    if (node === null) return out;
    if (!isMap(node)) {
      issue(node, path, `expected a mapping, got ${describe(node)}`);
      return out;
    }
    eachEntry(node, path, { userKeys: false }, (key, keyNode, value) => {
      if (!known.includes(key)) {
        issue(keyNode, path, `unknown field "${key}"`);
        return;
      }
      remember(value ?? keyNode, join(path, key));
      out.set(key, value);
    });
    return out;
  }

  function string(node: Node | null | undefined, path: string, required: false): string;
  function string(node: Node | null | undefined, path: string, required: true, parent: Node | null): string;
  function string(node: Node | null | undefined, path: string, required: boolean, parent?: Node | null): string {
    if (node === null || node === undefined) {
      if (required) issue(parent ?? null, path, "required field is missing or empty");
      return "";
    }
    if (!isScalar(node)) {
      issue(node, path, `expected a string, got ${describe(node)}`);
      return "";
    }
    const text = String(node.value);
    if (required && text === "") issue(node, path, "required field is missing or empty");
    return text;
  }

  function boolean(node: Node | null | undefined, path: string): boolean | undefined {
    if (node === null || node === undefined) return undefined;
    if (isScalar(node) && node.type === "PLAIN") {
      const text = String(node.value);
      if (TRUE_WORDS.has(text)) return true;
      if (FALSE_WORDS.has(text)) return false;
    }
    issue(
      node,
      path,
      `expected a boolean (true or false), got ${isScalar(node) ? JSON.stringify(String(node.value)) : describe(node)}`,
    );
    return undefined;
  }

  function list(node: Node | null | undefined, path: string): Node[] {
    if (node === null || node === undefined) return [];
    if (!isSeq(node)) {
      issue(node, path, `expected a list, got ${describe(node)}`);
      return [];
    }
    return node.items.map((item, index) => {
      const value = resolve(item);
      remember(value, `${path}[${index}]`);
      return value as Node;
    });
  }

  function finiteNumber(node: Node | null | undefined, path: string): number | undefined {
    if (node === null || node === undefined) return undefined;
    const text = string(node, path, false);
    if (!DECIMAL_NUMBER.test(text.trim()) || !Number.isFinite(Number(text))) {
      issue(node, path, `expected a finite number, got ${JSON.stringify(text)}`);
      return undefined;
    }
    return Number(text);
  }

  /**
   * A mapping whose keys the user chooses (override labels, parameter and header names): each key must be a
   * non-empty string written once; each value is read by `read` at the path `<path>.<key>`.
   */
  function userMap<T>(
    node: Node | null,
    path: string,
    read: (value: Node | null, entryPath: string, keyNode: Node | null) => T,
  ): Record<string, T> {
    const out: Record<string, T> = {};
    if (node === null) return out;
    if (!isMap(node)) {
      issue(node, path, `expected a mapping, got ${describe(node)}`);
      return out;
    }
    eachEntry(node, path, { userKeys: true }, (key, keyNode, value) => {
      const entryPath = join(path, key);
      remember(value ?? keyNode, entryPath);
      out[key] = read(value, entryPath, keyNode);
    });
    return out;
  }

  /** A mapping of string keys to string values (any scalar, kept as its source text). */
  function stringMap(node: Node | null, path: string): Record<string, string> {
    return userMap(node, path, (value, entryPath) => string(value, entryPath, false));
  }

  return { issue, resolve, fields, string, boolean, list, finiteNumber, userMap, stringMap };
}

/** The merge key of YAML 1.1, which yaml.v2 (upstream's reader) supports. */
const MERGE_KEY = "<<";
/** Bound on merges of merges, so that a pathological file cannot recurse without end. */
const MAX_MERGE_DEPTH = 50;

const DECIMAL_NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const TRUE_WORDS = new Set(["true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"]);
const FALSE_WORDS = new Set(["false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"]);
const NULL_WORDS = new Set(["", "~", "null", "Null", "NULL"]);

/** A YAML 1.1 null as yaml.v2 reads it: empty, `~` or `null` in any of its spellings, unquoted. */
export function isNullScalar(node: Scalar): boolean {
  return node.type === "PLAIN" && NULL_WORDS.has(String(node.value ?? ""));
}

/** 0 for a plain scalar, 1 for a quoted one, when its source is one line equal to its value; else null. */
function valueShift(node: Node, text: string): number | null {
  if (!isScalar(node) || !node.range) return null;
  const raw = text.slice(node.range[0], node.range[1]);
  if (raw.includes("\n")) return null;
  const value = String(node.value);
  if (node.type === "PLAIN") return raw === value ? 0 : null;
  if (node.type === "QUOTE_SINGLE" || node.type === "QUOTE_DOUBLE") return raw.slice(1, -1) === value ? 1 : null;
  return null;
}

function describe(node: Node): string {
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  return "a scalar";
}

/** `path.key`, or `key` at the root. */
export function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}
