/**
 * The `data` of a `/api/v1/series` answer (a list of label objects), consumed from a token stream one series at a
 * time. Only the metric name is decoded; the other label values are validated and skipped, so nothing grows with the
 * number of series.
 */
import { ResponseShapeError } from "./decode.ts";
import type { JsonHandler } from "./json-tokenizer.ts";

/**
 * Receives one series: its `__name__` (undefined when absent) and the names of its other labels, in response order.
 * NB: `labelNames` is reused for the next series; copy it to keep it. Throwing stops the call.
 */
export type SeriesVisitor = (name: string | undefined, labelNames: readonly string[]) => void;

const NAME_LABEL = "__name__";

/** Creates the handler for the series list; every complete series goes to `visit`. */
export function createSeriesListHandler(visit: SeriesVisitor): JsonHandler & { readonly seriesCount: number } {
  let nesting = 0; // 0 before the list, 1 inside it, 2 inside a series object
  let index = 0;
  let key = "";
  let name: string | undefined;
  const labelNames: string[] = [];

  const unexpected = (what: string): never => {
    if (nesting === 0) throw new ResponseShapeError(`series data: expected a list, got ${what}`);
    if (nesting === 1) throw new ResponseShapeError(`series data[${index}]: expected a label object, got ${what}`);
    throw new ResponseShapeError(`series data[${index}].${key}: expected a string, got ${what}`);
  };

  return {
    get seriesCount() {
      return index;
    },
    openArray() {
      if (nesting !== 0) unexpected("a list");
      nesting = 1;
    },
    closeArray() {
      nesting = 0;
    },
    openObject() {
      if (nesting !== 1) unexpected("object");
      nesting = 2;
      name = undefined;
      labelNames.length = 0;
    },
    closeObject() {
      nesting = 1;
      visit(name, labelNames);
      index++;
    },
    key(label) {
      key = label;
    },
    wantString() {
      if (nesting !== 2) unexpected("string");
      return key === NAME_LABEL;
    },
    string(value) {
      if (key === NAME_LABEL) name = value;
      else labelNames.push(key);
    },
    number() {
      unexpected("number");
    },
    literal(value) {
      unexpected(value === null ? "null" : "boolean");
    },
  };
}
