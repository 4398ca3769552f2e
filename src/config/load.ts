/**
 * Reads a rules file strictly, like Go's `yaml.UnmarshalStrict`: unknown and duplicate keys are errors, one document
 * only, string fields keep their source text (`as: 123` is "123"), and every problem is reported with file, line,
 * column and path (rules/README.md). Nothing is compiled here; see naming/compile-rules.ts. The YAML access is
 * yaml-fields.ts; the `prometheus:` sections and `backends:` are query-options.ts and backends.ts.
 */
import { isMap, isScalar, LineCounter, parseAllDocuments, type Document, type Node } from "yaml";
import { parsePrometheusDuration } from "../util/duration.ts";
import { ConfigError, type ConfigIssue } from "./errors.ts";
import { helmValuesWarnings } from "./helm-values.ts";
import { describeSyntaxError } from "./yaml-syntax-error.ts";
import { createYamlFields, isNullScalar, join, type SourcePosition, type ValueSpan } from "./yaml-fields.ts";
import { readQueryOptions } from "./query-options.ts";
import { readBackend } from "./backends.ts";
import type {
  DiscoveryRule,
  GroupResourceReference,
  NameMapping,
  ResourceMapping,
  ResourceRule,
  ResourceRules,
  RulesFile,
  SeriesFilter,
} from "./schema.ts";

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
  const y = createYamlFields({ doc, file, issues, positions, at, text });
  const { issue, resolve, fields, string, boolean, list, finiteNumber, userMap } = y;
  const queryOptions = (node: Node | null, path: string) => readQueryOptions(y, node, path);

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
      const backends = list(f.get("backends"), "backends").map((n, i) => readBackend(y, n, `backends[${i}]`, seen));
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

function isEmptyDocument(doc: Document): boolean {
  const contents = doc.contents;
  return contents === null || (isScalar(contents) && isNullScalar(contents) && contents.tag === undefined);
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

function parentPath(path: string): string {
  const cut = Math.max(path.lastIndexOf("."), path.lastIndexOf("["));
  return cut <= 0 ? "" : path.slice(0, cut);
}
