/**
 * Reads a rules file strictly, like Go's `yaml.UnmarshalStrict`: unknown and duplicate keys are errors, one document
 * only, string fields keep their source text (`as: 123` is "123"), and every problem is reported with file, line,
 * column and path (rules/README.md). Nothing is compiled here; see naming/compile-rules.ts.
 *
 * NB: over 350 lines: the reader is one walk over the document that knows every field of the rules format, so that
 * each error can name its path and position; splitting it per section would pass that state around everywhere.
 */
import {
  Alias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Document,
  type Node,
  type Scalar,
  type YAMLMap,
} from "yaml";
import { parsePrometheusDuration } from "../util/duration.ts";
import { ConfigError, type ConfigIssue } from "./errors.ts";
import { helmValuesWarnings } from "./helm-values.ts";
import { describeSyntaxError } from "./yaml-syntax-error.ts";
import type {
  BackendConfig,
  BackendNamespaces,
  DiscoveryRule,
  GroupResourceReference,
  NameMapping,
  PrometheusQueryOptions,
  ResourceMapping,
  ResourceRule,
  ResourceRules,
  RulesFile,
  SeriesFilter,
} from "./schema.ts";

/** 1-based position of a node in the file. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** Where each path of the document was written, for errors found after parsing (regexes, templates, resources). */
export interface SourceMap {
  readonly file: string;
  /**
   * Position of the value at `path`, or of its nearest written ancestor. With `offset` (an index into a string
   * value), the position of that character when the value is a one-line plain or quoted scalar written without
   * escapes; otherwise the value's start.
   */
  positionOf(path: string, offset?: number): SourcePosition;
}

/** Where a scalar's text starts in the file, when characters of its value map one to one onto the source. */
interface ValueSpan {
  readonly position: SourcePosition;
  /** Column shift of the value's first character (1 after an opening quote); null when offsets cannot be mapped. */
  readonly shift: number | null;
}

export interface LoadedRules {
  readonly rules: RulesFile;
  readonly source: SourceMap;
  /** Things that load but probably are a mistake (see WARNING_CODES), located like errors. Default none. */
  readonly warnings?: readonly ConfigIssue[];
}

/** Parses rules file text. Throws ConfigError listing every problem. */
export function parseRulesText(text: string, file: string): LoadedRules {
  const lineCounter = new LineCounter();
  // NB: the failsafe schema reads every scalar as a string, which keeps source text for string fields; booleans and
  // nulls are recognised by hand below, with the YAML 1.1 spellings upstream's Go yaml accepts.
  const documents = parseAllDocuments(text, { schema: "failsafe", uniqueKeys: false, lineCounter });
  const issues: ConfigIssue[] = [];
  const positions = new Map<string, ValueSpan>();
  const at = (offset: number | undefined): SourcePosition => {
    if (offset === undefined) return { line: 0, column: 0 };
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const source: SourceMap = {
    file,
    positionOf(path, offset) {
      for (let p = path; ; p = parentPath(p)) {
        const found = positions.get(p);
        if (found) {
          if (p !== path || offset === undefined || found.shift === null) return found.position;
          return { line: found.position.line, column: found.position.column + found.shift + offset };
        }
        if (p === "") return { line: 0, column: 0 };
      }
    },
  };

  const docs = Array.isArray(documents) ? documents : [documents];
  const lines = text.split(/\r?\n/);
  // NB: only the first syntax error is reported, as yaml.v2 does: the parser goes on and reports every token after
  // it as unexpected, which buries the one mistake.
  const firstError = docs.flatMap((doc) => doc.errors)[0];
  if (firstError !== undefined) {
    const [start] = firstError.linePos ?? [];
    const line = start?.line ?? 0;
    const column = start?.col ?? 0;
    const described = describeSyntaxError(firstError.code, firstError.message, lines[line - 1], column);
    issues.push({ file, line, column, path: "", ...described });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  // Like yaml.v2, the first document is the configuration and empty documents after it (a trailing `---`) are
  // fine; unlike yaml.v2, which silently ignores the rest, a second document with content is refused.
  const extra = docs.slice(1).find((doc) => !isEmptyDocument(doc));
  if (extra !== undefined) {
    const { line, column } = at(extra.range?.[0]);
    throw new ConfigError([{ file, line, column, path: "", message: "only one YAML document is allowed" }]);
  }

  const warnings = helmValuesWarnings(docs[0] as Document | undefined, file, at);
  const reader = createReader(docs[0] as Document | undefined, file, issues, positions, at, text);
  const rules = reader.rulesFile();
  if (issues.length > 0) throw new ConfigError(issues, warnings);
  return { rules, source, warnings };
}

function createReader(
  doc: Document | undefined,
  file: string,
  issues: ConfigIssue[],
  positions: Map<string, ValueSpan>,
  at: (offset: number | undefined) => SourcePosition,
  text: string,
) {
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

  /** Reads a mapping with exactly the given keys; reports unknown and duplicate keys. */
  function fields(node: Node | null, path: string, known: readonly string[]): Map<string, Node | null> {
    const out = new Map<string, Node | null>();
    if (node === null) return out;
    if (!isMap(node)) {
      issue(node, path, `expected a mapping, got ${describe(node)}`);
      return out;
    }
    const explicit = new Set<string>();
    for (const pair of mergedPairs(node, path)) {
      const keyNode = resolve(pair.key);
      const key = keyNode && isScalar(keyNode) ? String(keyNode.value) : undefined;
      if (key === undefined) {
        issue(keyNode ?? node, path, "mapping keys must be strings");
        continue;
      }
      if (!pair.merged) {
        if (explicit.has(key)) {
          issue(keyNode, path, `duplicate key "${key}"`);
          continue;
        }
        explicit.add(key);
      }
      if (!known.includes(key)) {
        issue(keyNode, path, `unknown field "${key}"`);
        continue;
      }
      const value = resolve(pair.value);
      const childPath = join(path, key);
      remember(value ?? keyNode, childPath);
      out.set(key, value);
    }
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

  function resourceMapping(node: Node | null | undefined, path: string, allowNamespaced: boolean): ResourceMapping {
    const f = fields(
      node ?? null,
      path,
      allowNamespaced ? ["template", "overrides", "namespaced"] : ["template", "overrides"],
    );
    const overrides = userMap(
      f.get("overrides") ?? null,
      join(path, "overrides"),
      (value, entryPath, keyNode): GroupResourceReference => {
        const entry = fields(value, entryPath, ["group", "resource"]);
        return {
          group: string(entry.get("group"), join(entryPath, "group"), false),
          resource: string(entry.get("resource"), join(entryPath, "resource"), true, value ?? keyNode),
        };
      },
    );
    return {
      template: string(f.get("template"), join(path, "template"), false),
      overrides,
      namespaced: boolean(f.get("namespaced"), join(path, "namespaced")),
    };
  }

  function discoveryRule(node: Node, path: string): DiscoveryRule {
    const f = fields(node, path, [
      "seriesQuery",
      "seriesFilters",
      "resources",
      "name",
      "metricsQuery",
      "defaultValue",
      "prometheus",
    ]);
    if (node !== null && !isMap(node)) return emptyRule();
    const seriesFilters: SeriesFilter[] = list(f.get("seriesFilters"), join(path, "seriesFilters")).map(
      (filterNode, index) => {
        const filterPath = `${join(path, "seriesFilters")}[${index}]`;
        const ff = fields(filterNode, filterPath, ["is", "isNot"]);
        const filter: { is?: string; isNot?: string } = {};
        if (ff.get("is") != null) filter.is = string(ff.get("is"), join(filterPath, "is"), false);
        if (ff.get("isNot") != null) filter.isNot = string(ff.get("isNot"), join(filterPath, "isNot"), false);
        return filter;
      },
    );
    const nameFields = fields(f.get("name") ?? null, join(path, "name"), ["matches", "as"]);
    const name: NameMapping = {
      matches: string(nameFields.get("matches"), join(path, "name.matches"), false),
      as: string(nameFields.get("as"), join(path, "name.as"), false),
    };
    return {
      seriesQuery: string(f.get("seriesQuery"), join(path, "seriesQuery"), true, node),
      seriesFilters,
      // NB: `namespaced` is read for rules too (upstream's struct has it); compile-rules warns that it has no effect there.
      resources: resourceMapping(f.get("resources"), join(path, "resources"), true),
      name,
      metricsQuery: string(f.get("metricsQuery"), join(path, "metricsQuery"), true, node),
      defaultValue: finiteNumber(f.get("defaultValue"), join(path, "defaultValue")),
      prometheus: queryOptions(f.get("prometheus") ?? null, join(path, "prometheus")),
    };
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
    const explicit = new Set<string>();
    for (const pair of mergedPairs(node, path)) {
      const keyNode = resolve(pair.key);
      const key = keyNode && isScalar(keyNode) ? String(keyNode.value) : "";
      if (key === "") {
        issue(keyNode ?? node, path, "keys must be non-empty strings");
        continue;
      }
      if (!pair.merged) {
        if (explicit.has(key)) {
          issue(keyNode, path, `duplicate key "${key}"`);
          continue;
        }
        explicit.add(key);
      }
      const value = resolve(pair.value);
      const entryPath = join(path, key);
      remember(value ?? keyNode, entryPath);
      out[key] = read(value, entryPath, keyNode);
    }
    return out;
  }

  /** A mapping of string keys to string values (any scalar, kept as its source text). */
  function stringMap(node: Node | null, path: string): Record<string, string> {
    return userMap(node, path, (value, entryPath) => string(value, entryPath, false));
  }

  function queryOptions(node: Node | null, path: string): PrometheusQueryOptions {
    const f = fields(node, path, ["parameters", "headers", "backend"]);
    const backend = f.get("backend") == null ? undefined : string(f.get("backend"), join(path, "backend"), false);
    const { parameters, headers } = parametersAndHeaders(f, node, path);
    return backend === undefined || backend === "" ? { parameters, headers } : { parameters, headers, backend };
  }

  /** The `parameters` and `headers` of a rule's `prometheus:` or of a backend, checked alike. */
  function parametersAndHeaders(
    f: Map<string, Node | null>,
    node: Node | null,
    path: string,
  ): { parameters: Record<string, string>; headers: Record<string, string> } {
    const parameters = stringMap(f.get("parameters") ?? null, join(path, "parameters"));
    for (const reserved of ["query", "time"]) {
      if (Object.hasOwn(parameters, reserved))
        issue(
          f.get("parameters") ?? node,
          join(path, "parameters"),
          `"${reserved}" is set by prom-adapter and cannot be overridden`,
        );
    }
    const headers = stringMap(f.get("headers") ?? null, join(path, "headers"));
    for (const name of Object.keys(headers)) {
      if (!HTTP_TOKEN.test(name))
        issue(f.get("headers") ?? node, join(path, "headers"), `invalid header name ${JSON.stringify(name)}`);
      else if (RESERVED_HEADERS.has(name.toLowerCase()))
        issue(
          f.get("headers") ?? node,
          join(path, "headers"),
          `header "${name}" is set by prom-adapter and cannot be overridden`,
        );
    }
    return { parameters, headers };
  }

  function backend(node: Node, path: string, seen: Set<string>): BackendConfig {
    const f = fields(node, path, [
      "name",
      "url",
      "namespaces",
      "bearerTokenFile",
      "caFile",
      "clientCertFile",
      "clientKeyFile",
      "authConfigFile",
      "headers",
      "parameters",
    ]);
    const name = string(f.get("name"), join(path, "name"), true, node);
    if (name !== "") {
      if (!DNS1123_LABEL.test(name))
        issue(f.get("name"), join(path, "name"), `${JSON.stringify(name)} is not a DNS-1123 label (a-z, 0-9, -)`);
      else if (name === "default")
        issue(f.get("name"), join(path, "name"), `"default" is the --prometheus-url backend and cannot be redeclared`);
      else if (seen.has(name)) issue(f.get("name"), join(path, "name"), `duplicate backend name "${name}"`);
      seen.add(name);
    }
    const url = string(f.get("url"), join(path, "url"), true, node);
    if (url !== "") {
      const parsed = URL.canParse(url) ? new URL(url) : null;
      if (parsed === null || !/^https?:$/.test(parsed.protocol))
        issue(f.get("url"), join(path, "url"), `expected an http or https URL, got ${JSON.stringify(url)}`);
      else if (parsed.username !== "" || parsed.password !== "")
        issue(f.get("url"), join(path, "url"), "credentials in the URL are refused: use authConfigFile");
    }
    const file = (key: string) => {
      const value = string(f.get(key), join(path, key), false);
      return value === "" ? undefined : value;
    };
    const clientCertFile = file("clientCertFile");
    const clientKeyFile = file("clientKeyFile");
    if ((clientCertFile === undefined) !== (clientKeyFile === undefined))
      issue(node, path, "clientCertFile and clientKeyFile must be given together");
    const { parameters, headers } = parametersAndHeaders(f, node, path);
    for (const header of Object.keys(headers)) {
      if (["authorization", "proxy-authorization"].includes(header.toLowerCase()))
        issue(
          f.get("headers") ?? node,
          join(path, "headers"),
          `header "${header}" would put a secret in the rules file: use bearerTokenFile or authConfigFile`,
        );
    }
    return {
      name,
      url,
      namespaces: backendNamespaces(f.get("namespaces") ?? null, join(path, "namespaces")),
      bearerTokenFile: file("bearerTokenFile"),
      caFile: file("caFile"),
      clientCertFile,
      clientKeyFile,
      authConfigFile: file("authConfigFile"),
      headers,
      parameters,
    };
  }

  /** A list of names, or one string: an RE2 regex (checked when compiling). */
  function backendNamespaces(node: Node | null, path: string): BackendNamespaces | null {
    if (node === null) return null;
    if (isScalar(node)) return { kind: "regex", pattern: string(node, path, false) };
    const names = list(node, path).map((item, index) => string(item, `${path}[${index}]`, true, node));
    return { kind: "list", names };
  }

  function resourceRule(node: Node | null | undefined, path: string, parent: Node | null): ResourceRule {
    if (node === null || node === undefined) issue(parent, path, "required field is missing or empty");
    const f = fields(node ?? null, path, ["containerQuery", "nodeQuery", "resources", "containerLabel"]);
    return {
      containerQuery: string(f.get("containerQuery"), join(path, "containerQuery"), true, node ?? parent),
      nodeQuery: string(f.get("nodeQuery"), join(path, "nodeQuery"), true, node ?? parent),
      resources: resourceMapping(f.get("resources"), join(path, "resources"), false),
      containerLabel: string(f.get("containerLabel"), join(path, "containerLabel"), true, node ?? parent),
    };
  }

  function resourceRules(node: Node | null | undefined): ResourceRules | null {
    if (node === null || node === undefined) return null;
    const f = fields(node, "resourceRules", ["cpu", "memory", "window", "backend"]);
    const backendName = string(f.get("backend"), "resourceRules.backend", false);
    const windowNode = f.get("window");
    const windowText = string(windowNode, "resourceRules.window", false);
    let window = 0;
    if (windowText !== "") {
      try {
        window = parsePrometheusDuration(windowText);
      } catch (error) {
        issue(windowNode, "resourceRules.window", (error as Error).message);
      }
    }
    return {
      cpu: resourceRule(f.get("cpu"), "resourceRules.cpu", node),
      memory: resourceRule(f.get("memory"), "resourceRules.memory", node),
      window,
      windowSet: windowText !== "",
      ...(backendName === "" ? {} : { backend: backendName }),
    };
  }

  return {
    rulesFile(): RulesFile {
      const root = resolve(doc?.contents);
      const f = fields(root, "", ["rules", "externalRules", "resourceRules", "backends"]);
      const seen = new Set<string>();
      const backends = list(f.get("backends"), "backends").map((n, i) => backend(n, `backends[${i}]`, seen));
      const rules = list(f.get("rules"), "rules").map((n, i) => discoveryRule(n, `rules[${i}]`));
      const externalRules = list(f.get("externalRules"), "externalRules").map((n, i) =>
        discoveryRule(n, `externalRules[${i}]`),
      );
      const resource = resourceRules(f.get("resourceRules"));
      if (issues.length === 0 && rules.length === 0 && externalRules.length === 0 && resource === null) {
        issue(root, "", "the file defines no rules, externalRules or resourceRules: nothing would be served");
      }
      return { rules, externalRules, resourceRules: resource, backends };
    },
  };
}

/** The merge key of YAML 1.1, which yaml.v2 (upstream's reader) supports. */
const MERGE_KEY = "<<";
/** Bound on merges of merges, so that a pathological file cannot recurse without end. */
const MAX_MERGE_DEPTH = 50;

function isEmptyDocument(doc: Document): boolean {
  const contents = doc.contents;
  return contents === null || (isScalar(contents) && isNullScalar(contents) && contents.tag === undefined);
}

const DECIMAL_NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const RESERVED_HEADERS = new Set(["host", "content-length", "content-type", "transfer-encoding", "connection"]);
const TRUE_WORDS = new Set(["true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"]);
const FALSE_WORDS = new Set(["false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"]);
/** A backend name: a DNS-1123 label, as Kubernetes names are. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const NULL_WORDS = new Set(["", "~", "null", "Null", "NULL"]);

function isNullScalar(node: Scalar): boolean {
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

function emptyRule(): DiscoveryRule {
  return {
    seriesQuery: "",
    seriesFilters: [],
    resources: { template: "", overrides: {}, namespaced: undefined },
    name: { matches: "", as: "" },
    metricsQuery: "",
    defaultValue: undefined,
    prometheus: { parameters: {}, headers: {} },
  };
}

function describe(node: Node): string {
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  return "a scalar";
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function parentPath(path: string): string {
  const cut = Math.max(path.lastIndexOf("."), path.lastIndexOf("["));
  return cut <= 0 ? "" : path.slice(0, cut);
}
