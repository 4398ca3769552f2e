/**
 * `fieldSelector` of the metrics.k8s.io lists (docs/api.md, Paths): apimachinery's `fields.ParseSelector` grammar
 * (`a=b`, `a==b`, `a!=b`, comma-separated, `\,` `\=` `\\` escapes), with the fields every kind without its own
 * conversion accepts (`metadata.name`, `metadata.namespace`), matched the way metrics-server filters its listers.
 */

/** The fields a metrics.k8s.io selector may name (k8s.io/apimachinery DefaultMetaV1FieldSelectorConversion). */
export type MetadataField = "metadata.name" | "metadata.namespace";

/** One term: field, equality (`=`/`==`) or inequality (`!=`), and the unescaped value. */
export interface FieldRequirement {
  readonly field: MetadataField;
  readonly equal: boolean;
  readonly value: string;
}

/** The selector does not parse, or names an unsupported field; the message is apimachinery's. */
export class FieldSelectorError extends Error {
  override readonly name = "FieldSelectorError";
}

// NB: apimachinery tries "!=" before "==" before "=" at each position of a term.
const OPERATORS = ["!=", "==", "="] as const;
const SUPPORTED_FIELDS: readonly string[] = ["metadata.name", "metadata.namespace"];

/** A parsed term of any field, before the field is checked. */
export interface FieldTerm {
  readonly field: string;
  readonly equal: boolean;
  readonly value: string;
}

/**
 * The grammar alone (apimachinery `fields.ParseSelector`): terms sorted by their text, values unescaped; `""` gives
 * `[]`. Which fields are allowed is the caller's business (the kube-apiserver stand-in in test/support uses it too).
 */
export function parseFieldSelectorTerms(text: string): FieldTerm[] {
  const terms: FieldTerm[] = [];
  for (const part of splitTerms(text).sort()) {
    if (part === "") continue;
    const term = splitTerm(part);
    if (term === null) throw new FieldSelectorError(`invalid selector: '${text}'; can't understand '${part}'`);
    terms.push({ field: term.field, equal: term.operator !== "!=", value: unescapeValue(term.value) });
  }
  return terms;
}

/** Parses `text`; `""` gives `[]`. Terms come back sorted by their text, as apimachinery sorts them. */
export function parseFieldSelector(text: string): FieldRequirement[] {
  const terms = parseFieldSelectorTerms(text);
  // NB: the API server parses the whole selector first and converts field labels afterwards.
  for (const { field } of terms) {
    if (!SUPPORTED_FIELDS.includes(field)) {
      throw new FieldSelectorError(
        `"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`,
      );
    }
  }
  return terms as FieldRequirement[];
}

/**
 * Whether an object with these metadata fields satisfies every term. A field the object lacks (a node's namespace)
 * reads as `""`, as in apimachinery's `fields.Set`.
 */
export function fieldSelectorMatches(
  requirements: readonly FieldRequirement[],
  fields: { readonly name: string; readonly namespace?: string },
): boolean {
  return requirements.every(({ field, equal, value }) => {
    const actual = field === "metadata.name" ? fields.name : (fields.namespace ?? "");
    return (actual === value) === equal;
  });
}

/** Splits at commas not escaped by a backslash; escapes stay in place. */
function splitTerms(text: string): string[] {
  if (text === "") return [];
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

function splitTerm(term: string): { field: string; operator: (typeof OPERATORS)[number]; value: string } | null {
  for (let index = 0; index < term.length; index++) {
    for (const operator of OPERATORS) {
      if (term.startsWith(operator, index))
        return { field: term.slice(0, index), operator, value: term.slice(index + operator.length) };
    }
  }
  return null;
}

/** apimachinery `fields.UnescapeValue`, with its messages (the rune is printed as a number, as Go's `%v` does). */
function unescapeValue(value: string): string {
  if (!/[\\,=]/.test(value)) return value;
  let out = "";
  let escaped = false;
  for (const char of value) {
    if (escaped) {
      if (char !== "\\" && char !== "," && char !== "=") {
        throw new FieldSelectorError(`invalid field selector: invalid escape sequence: \\${char}`);
      }
      out += char;
      escaped = false;
    } else if (char === "\\") {
      escaped = true;
    } else if (char === "," || char === "=") {
      throw new FieldSelectorError(`invalid field selector: unescaped character in value: ${char.codePointAt(0)}`);
    } else {
      out += char;
    }
  }
  if (escaped) throw new FieldSelectorError("invalid field selector: invalid escape sequence: \\");
  return out;
}
