/**
 * Static types of the `<< >>` template compiler: each expression is typed with the set of runtime kinds it may
 * produce, so that expressions that can only fail are rejected when the rules are loaded.
 */
import { TemplateCompileError, TemplateExecutionError } from "./errors.ts";
import { TemplateRoot, type TemplateValue } from "./values.ts";

// Bits of a static type (a set of runtime kinds).
export const STRING = 1;
export const INT = 2;
export const BOOL = 4;
export const LIST = 8;
export const MAP = 16;
export const ROOT = 32;
export const NIL = 64;

const TYPE_NAMES: ReadonlyArray<readonly [number, string]> = [
  [STRING, "string"],
  [INT, "int"],
  [BOOL, "bool"],
  [LIST, "[]string"],
  [MAP, "map[string]string"],
  [ROOT, "struct"],
  [NIL, "nil"],
];

/** A value of each single kind, to run kind-only checks (comparisons) at compile time. */
export const SAMPLE_VALUES: ReadonlyMap<number, TemplateValue> = new Map<number, TemplateValue>([
  [STRING, ""],
  [INT, 0],
  [BOOL, false],
  [LIST, []],
  [MAP, {}],
  [ROOT, new TemplateRoot({}, [])],
  [NIL, null],
]);

/** Go's name of a static type, or `value (string or nil)` for a set of several. */
export function typeName(type: number): string {
  const names = TYPE_NAMES.filter(([bit]) => (type & bit) !== 0).map(([, name]) => name);
  return names.length === 1 ? (names[0] ?? "value") : `value (${names.join(" or ")})`;
}

/** Reads the value of an expression with the given dot. */
export type Evaluate = (dot: TemplateValue) => TemplateValue;

/** A compiled expression. */
export interface Compiled {
  readonly evaluate: Evaluate;
  /** Set of the kinds (bits above) the value may have. */
  readonly type: number;
  /** Present when the value is a literal known at compile time. */
  readonly constant?: TemplateValue;
}

export function constant(value: TemplateValue, type: number): Compiled {
  return { evaluate: () => value, type, constant: value };
}

export function fail(detail: string, offset: number): never {
  throw new TemplateCompileError(detail, offset);
}

/** Gives an execution error thrown below `offset` that position, unless a deeper command already did. */
export function located<R>(offset: number, run: (dot: TemplateValue) => R): (dot: TemplateValue) => R {
  return (dot) => {
    try {
      return run(dot);
    } catch (error) {
      if (error instanceof TemplateExecutionError && error.offset < 0)
        throw new TemplateExecutionError(error.detail, offset);
      throw error;
    }
  };
}
