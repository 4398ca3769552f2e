/**
 * Go fmt for template values: what an action prints, `print` (fmt.Sprint) and `printf` (fmt.Sprintf) with the
 * verbs `%s %v %q %d %%`.
 */
import { goQuote, goQuoteRune } from "./template-quote.ts";
import { goTypeName, isStringMap, sortedKeys, TemplateRoot, type TemplateValue } from "./template-values.ts";
import { TemplateExecutionError } from "./template-errors.ts";

/** The printf verbs the engine implements. */
export type FormatVerb = "s" | "v" | "q" | "d";

/** A printf format split once into literal text and verbs. */
export type CompiledFormat = readonly (string | { readonly verb: FormatVerb })[];

/** Go's `%!d(string=foo)` for a verb that does not apply to the value. */
function badVerb(verb: FormatVerb, value: Exclude<TemplateValue, null>): string {
  return `%!${verb}(${goTypeName(value)}=${formatValue(value, "v")})`;
}

/** Formats a non-nil value with a verb as Go's fmt does, recursing into slices, maps and the root struct. */
export function formatValue(value: Exclude<TemplateValue, null>, verb: FormatVerb): string {
  switch (typeof value) {
    case "string":
      if (verb === "v" || verb === "s") return value;
      return verb === "q" ? goQuote(value) : badVerb(verb, value);
    case "number":
      if (verb === "v" || verb === "d") return String(value);
      return verb === "q" ? goQuoteRune(value) : badVerb(verb, value);
    case "boolean":
      return verb === "v" ? String(value) : badVerb(verb, value);
  }
  if (Array.isArray(value)) {
    const list: readonly string[] = value;
    return "[" + list.map((element) => formatValue(element, verb)).join(" ") + "]";
  }
  if (value instanceof TemplateRoot) {
    const fields = value.fieldNames.map((name) => {
      const field = value.data[name];
      if (field === undefined) throw new TemplateExecutionError(`no value for field .${name} in the template data`);
      return formatValue(field, verb);
    });
    return "{" + fields.join(" ") + "}";
  }
  if (isStringMap(value)) {
    const entries = sortedKeys(value).map((key) => `${formatValue(key, verb)}:${formatValue(value[key] ?? "", verb)}`);
    return "map[" + entries.join(" ") + "]";
  }
  return String(value);
}

/** What an action `<<x>>` prints: the value with `%v`, `<no value>` for nil / a missing map key. */
export function printValue(value: TemplateValue): string {
  if (typeof value === "string") return value;
  return value === null ? "<no value>" : formatValue(value, "v");
}

/** Go `print` (fmt.Sprint): operands with `%v`, a space between two operands when neither is a string. */
export function goSprint(values: readonly TemplateValue[]): string {
  let out = "";
  let previousIsString = false;
  values.forEach((value, index) => {
    const isString = typeof value === "string";
    if (index > 0 && !isString && !previousIsString) out += " ";
    out += value === null ? "<nil>" : formatValue(value, "v");
    previousIsString = isString;
  });
  return out;
}

/**
 * Splits a printf format into text and verbs. Returns an error message for what the engine does not implement:
 * verbs other than `%s %v %q %d %%`, flags, width, precision and argument indexes.
 */
export function compileFormat(format: string): CompiledFormat | { readonly error: string } {
  const pieces: (string | { readonly verb: FormatVerb })[] = [];
  let text = "";
  for (let i = 0; i < format.length; i++) {
    const char = format[i];
    if (char !== "%") {
      text += char;
      continue;
    }
    const verb = format[++i];
    if (verb === undefined) {
      text += "%!(NOVERB)";
    } else if (verb === "%") {
      text += "%";
    } else if (verb === "s" || verb === "v" || verb === "q" || verb === "d") {
      if (text !== "") pieces.push(text);
      text = "";
      pieces.push({ verb });
    } else if ("+-# 0123456789.[*".includes(verb)) {
      return { error: `printf flags, width, precision and argument indexes are not supported: ${goQuote(format)}` };
    } else {
      const name = String.fromCodePoint(format.codePointAt(i) ?? 0);
      return { error: `printf verb %${name} is not supported (supported: %s %v %q %d %%)` };
    }
  }
  if (text !== "") pieces.push(text);
  return pieces;
}

/** Go `printf` with a compiled format: `%!s(MISSING)` for missing operands, `%!(EXTRA ...)` for extra ones. */
export function goSprintf(format: CompiledFormat, values: readonly TemplateValue[]): string {
  let out = "";
  let next = 0;
  for (const piece of format) {
    if (typeof piece === "string") {
      out += piece;
      continue;
    }
    const { verb } = piece;
    if (next >= values.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const value = values[next++] ?? null;
    if (value !== null) out += formatValue(value, verb);
    else out += verb === "v" ? "<nil>" : `%!${verb}(<nil>)`;
  }
  if (next < values.length) {
    const extra = values.slice(next).map((value) => (value === null ? "<nil>" : `${goTypeName(value)}=${formatValue(value, "v")}`));
    out += `%!(EXTRA ${extra.join(", ")})`;
  }
  return out;
}
