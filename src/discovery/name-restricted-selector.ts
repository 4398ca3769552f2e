/**
 * Narrows a series selector (a rule's `seriesQuery`, e.g. `{__name__=~"^container_.*",namespace!=""}`) to series
 * with one of a few metric names, so the incremental discovery pass can ask Prometheus for just the new metrics:
 * `{__name__=~"^container_.*",namespace!="",__name__=~"container_new_a|container_new_b"}`. Matchers on one label are
 * ANDed, so the result selects exactly the series of the original selector whose name is in the list.
 */
import { goQuote } from "../golang/strconv.ts";

/** The selector is not a plain `name{matchers}` series selector this module can extend. */
export class SelectorShapeError extends Error {
  override readonly name = "SelectorShapeError";
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const REGEX_SPECIAL = /[\\.+*?()|[\]{}^$]/g;

/**
 * `selector` restricted to series named one of `names`; null when no name can match (a selector written as
 * `metric{…}` only selects `metric`). Throws {@link SelectorShapeError} when the selector cannot be read.
 */
export function restrictToNames(selector: string, names: readonly string[]): string | null {
  if (names.length === 0) return null;
  const text = selector.trim();
  const metric = METRIC_NAME.exec(text)?.[0];
  const rest = text.slice(metric?.length ?? 0).trim();
  if (metric !== undefined) {
    // NB: a bare metric name already pins __name__; appending another name matcher would be a PromQL error.
    if (rest !== "" && !isBraces(rest, selector))
      throw new SelectorShapeError(`cannot read series selector ${JSON.stringify(selector)}`);
    return names.includes(metric) ? selector : null;
  }
  if (!isBraces(rest, selector))
    throw new SelectorShapeError(`cannot read series selector ${JSON.stringify(selector)}`);
  const inner = rest.slice(1, -1).trim().replace(/,\s*$/, "");
  const alternation = names.map((name) => name.replace(REGEX_SPECIAL, "\\$&")).join("|");
  return `{${inner}${inner === "" ? "" : ","}__name__=~${goQuote(alternation)}}`;
}

/**
 * `selector` with one more matcher ANDed to it, e.g. `withMatcher('{namespace!=""}', 'pod!=""')` gives
 * `{namespace!="",pod!=""}` and `withMatcher("up", 'pod!=""')` gives `up{pod!=""}`. Throws
 * {@link SelectorShapeError} when the selector cannot be read.
 */
export function withMatcher(selector: string, matcher: string): string {
  const text = selector.trim();
  const metric = METRIC_NAME.exec(text)?.[0] ?? "";
  const rest = text.slice(metric.length).trim();
  if (metric !== "" && rest === "") return `${metric}{${matcher}}`;
  if (!isBraces(rest, selector))
    throw new SelectorShapeError(`cannot read series selector ${JSON.stringify(selector)}`);
  const inner = rest.slice(1, -1).trim().replace(/,\s*$/, "");
  return `${metric}{${inner}${inner === "" ? "" : ","}${matcher}}`;
}

/** Whether `text` is one `{…}` block whose closing brace (outside quoted strings) is its last character. */
function isBraces(text: string, selector: string): boolean {
  if (!text.startsWith("{")) return false;
  let quote = "";
  for (let i = 1; i < text.length; i++) {
    const char = text[i];
    if (quote !== "") {
      if (char === "\\" && quote !== "`") i++;
      else if (char === quote) quote = "";
      continue;
    }
    if (char === '"' || char === "'" || char === "`") quote = char;
    else if (char === "{")
      throw new SelectorShapeError(`cannot read series selector ${JSON.stringify(selector)}: nested '{'`);
    else if (char === "}") return i === text.length - 1;
  }
  return false;
}
