/**
 * Field selectors (`fieldSelector=status.phase=Running,metadata.name!=x`) with the grammar of apimachinery
 * `fields.ParseSelector` and the label conversion of `runtime.Scheme.ConvertFieldLabel`.
 */
import type { StoredObject } from "./object-store.ts";
import type { ResourceDefinition } from "./types.ts";

/** One term: field, `=`/`==` (equal) or `!=`, and the unescaped value. */
export interface FieldTerm {
  field: string;
  equal: boolean;
  value: string;
}

/** The selector text does not parse, or names a field the resource does not support; the message is Kubernetes'. */
export class FieldSelectorError extends Error {
  override name = "FieldSelectorError";
}

// NB: the order matters: at each position apimachinery tries "!=" then "==" then "=".
const OPERATORS = ["!=", "==", "="] as const;
const DEFAULT_FIELDS = ["metadata.name", "metadata.namespace"];
// Boolean fields Kubernetes always fills in, so an absent value reads as "false".
const BOOLEAN_FIELDS = new Set(["spec.hostNetwork", "spec.unschedulable"]);

/** Parses and validates a field selector for `definition`. Empty text gives no terms. */
export function parseFieldSelector(text: string, definition: ResourceDefinition): FieldTerm[] {
  const terms: FieldTerm[] = [];
  for (const part of splitTerms(text).sort()) {
    if (part === "") continue;
    const term = splitTerm(part);
    if (!term) throw new FieldSelectorError(`invalid selector: '${text}'; can't understand '${part}'`);
    terms.push({ field: term.field, equal: term.operator !== "!=", value: unescapeValue(term.value) });
  }
  for (const { field } of terms) checkFieldLabel(field, definition);
  return terms;
}

/** Whether `object` satisfies every term. */
export function fieldsMatch(terms: readonly FieldTerm[], object: StoredObject, definition: ResourceDefinition): boolean {
  return terms.every((term) => (fieldValue(term.field, object, definition) === term.value) === term.equal);
}

function checkFieldLabel(field: string, definition: ResourceDefinition): void {
  if (DEFAULT_FIELDS.includes(field)) return;
  if (definition.fieldLabels === undefined) {
    throw new FieldSelectorError(`"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
  }
  if (!(field in definition.fieldLabels)) throw new FieldSelectorError(`field label not supported: ${field}`);
}

function fieldValue(field: string, object: StoredObject, definition: ResourceDefinition): string {
  if (field === "metadata.name") return object.name;
  if (field === "metadata.namespace") return object.namespace;
  let current: unknown = object.body;
  for (const step of (definition.fieldLabels?.[field] ?? field).split(".")) {
    current = current !== null && typeof current === "object" ? (current as Record<string, unknown>)[step] : undefined;
  }
  if (current === undefined || current === null) return BOOLEAN_FIELDS.has(field) ? "false" : "";
  return typeof current === "string" ? current : JSON.stringify(current);
}

/** Splits at commas not escaped by a backslash (the escapes stay in place). */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (escaped) escaped = false;
    else if (char === "\\") escaped = true;
    else if (char === ",") {
      terms.push(text.slice(start, index));
      start = index + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}

function splitTerm(term: string): { field: string; operator: string; value: string } | undefined {
  for (let index = 0; index < term.length; index++) {
    for (const operator of OPERATORS) {
      if (term.startsWith(operator, index)) {
        return { field: term.slice(0, index), operator, value: term.slice(index + operator.length) };
      }
    }
  }
  return undefined;
}

function unescapeValue(value: string): string {
  let result = "";
  for (let index = 0; index < value.length; index++) {
    const char = value[index]!;
    if (char === "\\") {
      const next = value[index + 1];
      if (next !== "\\" && next !== "," && next !== "=") throw new FieldSelectorError(`invalid field selector: invalid escape sequence: ${value.slice(index, index + 2)}`);
      result += next;
      index += 1;
    } else if (char === "," || char === "=") {
      // NB: apimachinery formats the rune with %v, i.e. as its code point number.
      throw new FieldSelectorError(`invalid field selector: unescaped character in value: ${char.codePointAt(0)}`);
    } else {
      result += char;
    }
  }
  return result;
}
