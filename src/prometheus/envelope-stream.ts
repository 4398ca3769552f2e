/**
 * The `{status, data, errorType, error}` envelope of a Prometheus answer, read from a token stream: the events of the
 * `data` value are handed to another handler as they arrive, the few envelope fields are kept, everything else is
 * skipped. Works whatever the key order, so `data` may come before `status`.
 */
import type { JsonHandler } from "./json-tokenizer.ts";

/** What the envelope said besides `data`. */
export interface EnvelopeFields {
  /** `"success"`, `"error"`, another string, or undefined when absent or not a string. */
  readonly status: string | undefined;
  readonly errorType: string | undefined;
  readonly error: string | undefined;
  /** Whether a `data` key was present (and forwarded). */
  readonly hasData: boolean;
  /** Whether the top-level value was an object. */
  readonly isObject: boolean;
}

/** A handler for a whole response body that forwards the `data` value to `data`. */
export interface EnvelopeReader {
  readonly handler: JsonHandler;
  /** The envelope fields; complete once the tokenizer has ended. */
  fields(): EnvelopeFields;
}

const KEPT_FIELDS = new Set(["status", "errorType", "error"]);

/**
 * Creates the envelope reader. `data` receives exactly the events of the `data` value; it is not called when the
 * envelope already said `status: "error"` before `data` (an error answer's data is meaningless).
 */
export function createEnvelopeReader(data: JsonHandler): EnvelopeReader {
  let depth = 0; // nesting depth of the current position; the envelope object itself is depth 1
  let isObject = false;
  let currentKey: string | undefined;
  let delegating = false;
  let delegateDepth = 0;
  let hasData = false;
  const kept = new Map<string, string>();

  // NB: events of the data value go through `forward`; everything else is envelope bookkeeping.
  const startDelegate = () => {
    delegating = currentKey === "data" && depth === 1 && kept.get("status") !== "error";
    if (currentKey === "data" && depth === 1) hasData = true;
    delegateDepth = 0;
  };

  const handler: JsonHandler = {
    openObject() {
      if (depth === 0) isObject = true;
      else if (depth === 1) startDelegate();
      depth++;
      if (delegating) {
        delegateDepth++;
        data.openObject();
      }
    },
    closeObject() {
      depth--;
      if (delegating) {
        data.closeObject();
        if (--delegateDepth === 0) delegating = false;
      }
    },
    openArray() {
      if (depth === 1) startDelegate();
      depth++;
      if (delegating) {
        delegateDepth++;
        data.openArray();
      }
    },
    closeArray() {
      depth--;
      if (delegating) {
        data.closeArray();
        if (--delegateDepth === 0) delegating = false;
      }
    },
    key(name) {
      if (delegating) data.key(name);
      else if (depth === 1) currentKey = name;
    },
    wantString() {
      if (delegating) return data.wantString();
      if (depth === 1) {
        startDelegate();
        if (delegating) return data.wantString();
        return currentKey !== undefined && KEPT_FIELDS.has(currentKey);
      }
      return false;
    },
    string(value) {
      if (delegating) {
        data.string(value);
        if (delegateDepth === 0) delegating = false;
      } else if (depth === 1 && currentKey !== undefined && value !== undefined) {
        kept.set(currentKey, value);
      }
    },
    number(value) {
      if (depth === 1) startDelegate();
      if (delegating) {
        data.number(value);
        if (delegateDepth === 0) delegating = false;
      }
    },
    literal(value) {
      if (depth === 1) startDelegate();
      if (delegating) {
        data.literal(value);
        if (delegateDepth === 0) delegating = false;
      }
    },
  };

  return {
    handler,
    fields: () => ({
      status: kept.get("status"),
      errorType: kept.get("errorType"),
      error: kept.get("error"),
      hasData,
      isObject,
    }),
  };
}
