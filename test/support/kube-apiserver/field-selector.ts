/**
 * Field selectors (`fieldSelector=status.phase=Running,metadata.name!=x`) with the grammar of apimachinery
 * `fields.ParseSelector` and the label conversion of `runtime.Scheme.ConvertFieldLabel`.
 */
import { FieldSelectorError, parseFieldSelectorTerms, type FieldTerm } from "../../../src/apimachinery/fields.ts";
import type { StoredObject } from "./object-store.ts";
import type { ResourceDefinition } from "./types.ts";

export { FieldSelectorError, type FieldTerm } from "../../../src/apimachinery/fields.ts";

const DEFAULT_FIELDS = ["metadata.name", "metadata.namespace"];
// Boolean fields Kubernetes always fills in, so an absent value reads as "false".
const BOOLEAN_FIELDS = new Set(["spec.hostNetwork", "spec.unschedulable"]);

/** Parses and validates a field selector for `definition`. Empty text gives no terms. */
export function parseFieldSelector(text: string, definition: ResourceDefinition): FieldTerm[] {
  // The grammar is prom-adapter's own parser (apimachinery's); only the field conversion is the stand-in's.
  const terms = parseFieldSelectorTerms(text);
  for (const { field } of terms) checkFieldLabel(field, definition);
  return terms;
}

/** Whether `object` satisfies every term. */
export function fieldsMatch(
  terms: readonly FieldTerm[],
  object: StoredObject,
  definition: ResourceDefinition,
): boolean {
  return terms.every((term) => (fieldValue(term.field, object, definition) === term.value) === term.equal);
}

function checkFieldLabel(field: string, definition: ResourceDefinition): void {
  if (DEFAULT_FIELDS.includes(field)) return;
  if (definition.fieldLabels === undefined) {
    throw new FieldSelectorError(
      `"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`,
    );
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
