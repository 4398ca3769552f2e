/**
 * The builtin functions of Go text/template — and or not len index slice print printf println html js urlquery
 * eq ne lt le gt ge (`call` has nothing to call in rules data) — with their argument counts and the checks that
 * can be made when the template is compiled.
 */
import { TemplateExecutionError } from "./errors.ts";
import { compileFormat, goSprint, goSprintf, goSprintln, type CompiledFormat } from "./format.ts";
import {
  BOOL,
  fail,
  INT,
  LIST,
  located,
  MAP,
  NIL,
  SAMPLE_VALUES,
  STRING,
  typeName,
  type Compiled,
  type Evaluate,
} from "./types.ts";
import { htmlEscape, joinArguments, jsEscape, urlQueryEscape } from "./escape.ts";
import { goCompare, goEq, goIndex, goLen, goSlice, goTypeName, isTrue, type TemplateValue } from "./values.ts";

type Arity = readonly [min: number, max: number];
const ARITY: Readonly<Record<string, Arity>> = {
  and: [1, Infinity],
  eq: [1, Infinity],
  ge: [2, 2],
  gt: [2, 2],
  html: [0, Infinity],
  index: [1, Infinity],
  js: [0, Infinity],
  le: [2, 2],
  len: [1, 1],
  lt: [2, 2],
  ne: [2, 2],
  not: [1, 1],
  or: [1, Infinity],
  print: [0, Infinity],
  printf: [1, Infinity],
  println: [0, Infinity],
  slice: [1, 4],
  urlquery: [0, Infinity],
};

/** Names of the functions templates may call. */
export const FUNCTION_NAMES: ReadonlySet<string> = new Set(Object.keys(ARITY));

type Body = (values: TemplateValue[]) => TemplateValue;

function checkArity(name: string, count: number, offset: number): void {
  const [min, max] = ARITY[name] ?? [0, Infinity];
  if (count < min || count > max) {
    const want = min === max ? `${min}` : `at least ${min}`;
    fail(`wrong number of args for ${name}: want ${want} got ${count}`, offset);
  }
  if (name === "eq" && count === 1) fail("error calling eq: missing argument for comparison", offset);
}

/** Runs a comparison on sample values when every operand has one known kind, and fails if that fails. */
function checkComparison(
  name: "eq" | "ne" | "lt" | "le" | "gt" | "ge",
  args: readonly Compiled[],
  offset: number,
): void {
  const samples = args.map((arg) => SAMPLE_VALUES.get(arg.type));
  if (samples.some((sample) => sample === undefined)) return;
  const [first = null, ...others] = samples as TemplateValue[];
  try {
    if (name === "eq") goEq(first, others);
    else goCompare(name, first, others[0] ?? null);
  } catch (error) {
    if (error instanceof TemplateExecutionError) fail(error.detail, offset);
    throw error;
  }
}

function indexType(args: readonly Compiled[], offset: number): number {
  let type = args[0]?.type ?? NIL;
  for (const key of args.slice(1)) {
    const next = (type & STRING ? INT : 0) | (type & (LIST | MAP) ? STRING : 0);
    if (next === 0) {
      fail(
        type === NIL
          ? "error calling index: index of untyped nil"
          : `error calling index: can't index item of type ${typeName(type)}`,
        offset,
      );
    }
    if (type === MAP && !(key.type & STRING))
      fail(`error calling index: value has type ${typeName(key.type)}; should be string`, offset);
    if ((type === LIST || type === STRING) && !(key.type & INT)) {
      fail(`error calling index: cannot index slice/array with type ${typeName(key.type)}`, offset);
    }
    type = next;
  }
  return type;
}

function sliceType(args: readonly Compiled[], offset: number): number {
  const type = args[0]?.type ?? NIL;
  if (!(type & (STRING | LIST))) {
    const detail = type === NIL ? "slice of untyped nil" : `can't slice item of type ${typeName(type)}`;
    fail(`error calling slice: ${detail}`, offset);
  }
  if (type === STRING && args.length === 4) fail("error calling slice: cannot 3-index slice a string", offset);
  for (const index of args.slice(1)) {
    if (!(index.type & INT)) {
      fail(`error calling slice: cannot index slice/array with type ${typeName(index.type)}`, offset);
    }
  }
  return type & (STRING | LIST);
}

/** A printf format only known at execution time: compiled on each call; unsupported verbs fail execution. */
function runtimeFormat(format: TemplateValue): CompiledFormat {
  if (typeof format !== "string") {
    throw new TemplateExecutionError(`error calling printf: format must be a string, not ${goTypeName(format)}`);
  }
  const compiled = compileFormat(format);
  if ("error" in compiled) throw new TemplateExecutionError(`error calling printf: ${compiled.error}`);
  return compiled;
}

/** The function applied to evaluated arguments, and its static result type. */
function functionBody(name: string, args: readonly Compiled[], offset: number): readonly [Body, number] {
  switch (name) {
    case "print":
      return [goSprint, STRING];
    case "println":
      return [goSprintln, STRING];
    case "html":
      return [(values) => htmlEscape(joinArguments(values)), STRING];
    case "js":
      return [(values) => jsEscape(joinArguments(values)), STRING];
    case "urlquery":
      return [(values) => urlQueryEscape(joinArguments(values)), STRING];
    case "slice":
      return [(values) => goSlice(values[0] ?? null, values.slice(1)), sliceType(args, offset)];
    case "printf": {
      const format = args[0];
      if (format && !(format.type & STRING))
        fail(`printf format must be a string, not ${typeName(format.type)}`, offset);
      if (typeof format?.constant === "string") {
        const compiled = compileFormat(format.constant);
        if ("error" in compiled) fail(compiled.error, offset);
        return [(values) => goSprintf(compiled, values.slice(1)), STRING];
      }
      return [(values) => goSprintf(runtimeFormat(values[0] ?? null), values.slice(1)), STRING];
    }
    case "len": {
      const type = args[0]?.type ?? NIL;
      if (!(type & (STRING | LIST | MAP))) {
        fail(
          type === NIL ? "error calling len: len of untyped nil" : `error calling len: len of type ${typeName(type)}`,
          offset,
        );
      }
      return [(values) => goLen(values[0] ?? null), INT];
    }
    case "index":
      return [(values) => goIndex(values[0] ?? null, values.slice(1)), indexType(args, offset)];
    case "not":
      return [(values) => !isTrue(values[0] ?? null), BOOL];
    case "eq":
      checkComparison(name, args, offset);
      return [(values) => goEq(values[0] ?? null, values.slice(1)), BOOL];
    case "ne":
    case "lt":
    case "le":
    case "gt":
    case "ge":
      checkComparison(name, args, offset);
      return [(values) => goCompare(name, values[0] ?? null, values[1] ?? null), BOOL];
    default:
      return fail(`function "${name}" not defined`, offset);
  }
}

/**
 * Compiles a call of a function. `final` is the value piped in from the previous command, which Go passes as the
 * last argument (and evaluates first).
 */
export function compileCall(name: string, args: readonly Compiled[], final: Compiled | null, offset: number): Compiled {
  const all = final === null ? args : [...args, final];
  checkArity(name, all.length, offset);
  const argEvaluates = args.map((arg) => arg.evaluate);
  const finalEvaluate = final?.evaluate;
  if (name === "and" || name === "or") {
    // NB: Go evaluates and/or arguments lazily and returns the deciding value itself, not a boolean.
    const stopWhen = name === "or";
    const evaluate: Evaluate = (dot) => {
      const piped = finalEvaluate === undefined ? null : finalEvaluate(dot);
      let value: TemplateValue = null;
      for (const argEvaluate of argEvaluates) {
        value = argEvaluate(dot);
        if (isTrue(value) === stopWhen) return value;
      }
      return finalEvaluate === undefined ? value : piped;
    };
    return { evaluate, type: all.reduce((type, arg) => type | arg.type, 0) };
  }
  const [body, type] = functionBody(name, all, offset);
  const evaluate: Evaluate = (dot) => {
    const piped = finalEvaluate === undefined ? null : finalEvaluate(dot);
    const values = argEvaluates.map((argEvaluate) => argEvaluate(dot));
    if (finalEvaluate !== undefined) values.push(piped);
    return body(values);
  };
  return { evaluate: located(offset, evaluate), type };
}
