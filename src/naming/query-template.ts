/**
 * The `<< >>` template subset of rules files (metricsQuery, resources.template): Go text/template semantics with
 * delimiters `<<` and `>>` (rules/README.md, Querying). A template is compiled once — parsed, type-checked against the
 * fields the caller provides, turned into closures — and executed many times without parsing.
 */
import { TemplateExecutionError } from "./template-errors.ts";
import { formatValue, printValue } from "./template-format.ts";
import { compileCall, FUNCTION_NAMES } from "./template-functions.ts";
import { parseTemplate, type CommandNode, type OperandNode, type PipeNode, type TemplateNode } from "./template-parser.ts";
import { BOOL, constant, fail, INT, LIST, located, MAP, NIL, ROOT, STRING, typeName, type Compiled, type Evaluate } from "./template-types.ts";
import { fieldOf, isStringMap, isTrue, sortedKeys, TemplateRoot, type TemplateData, type TemplateValue } from "./template-values.ts";

export { TemplateCompileError, TemplateExecutionError } from "./template-errors.ts";
export type { StringMap, TemplateData } from "./template-values.ts";

/** The type of a top-level field: `string`, `[]string` or `map[string]string`. */
export type FieldKind = "string" | "list" | "map";

/** The fields a template may read, in the order Go would print the struct (`<<.>>`). */
export type TemplateSchema = Readonly<Record<string, FieldKind>>;

export interface CompiledTemplate {
  readonly source: string;
  /** Names of the top-level fields the template reads; printing or passing `.` itself counts as reading all. */
  readonly fieldsUsed: ReadonlySet<string>;
  /** Renders the template. Throws TemplateExecutionError (never another error) when execution fails. */
  execute(data: TemplateData): string;
}

/** Upper bound on `range` over an integer, so that a template cannot spin for hours. */
const MAX_RANGE_COUNT = 10_000;

type Emit = (dot: TemplateValue) => string;

const FIELD_TYPES: Readonly<Record<FieldKind, number>> = { string: STRING, list: LIST, map: MAP };

/** How an operand that is not a function is named in "can't give argument to ..." messages. */
function describeOperand(operand: OperandNode): string {
  switch (operand.kind) {
    case "field":
    case "chain":
      return `field .${operand.names.join(".")}`;
    case "string":
    case "int":
      return `non-function ${operand.text}`;
    case "bool":
      return `non-function ${operand.value}`;
    case "dot":
      return "non-function .";
    default:
      return "non-function (parenthesized pipeline)";
  }
}

const identity: Evaluate = (dot) => dot;

/**
 * Compiles a template. `schema` lists the top-level fields (e.g. `{ Group: "string", Resource: "string" }`);
 * reading any other field is an error. Throws TemplateCompileError for syntax errors, constructs outside the
 * subset and expressions that can only fail (an unknown field, `.Series.x`, `len 3`, a wrong argument count).
 */
export function compileTemplate(source: string, schema: TemplateSchema): CompiledTemplate {
  const fieldNames = Object.keys(schema);
  const fieldsUsed = new Set<string>();

  const fieldType = (receiverType: number, name: string, offset: number): number => {
    let result = 0;
    if (receiverType & ROOT) {
      const kind = Object.hasOwn(schema, name) ? schema[name] : undefined;
      if (kind !== undefined) {
        result |= FIELD_TYPES[kind];
        fieldsUsed.add(name);
      }
    }
    if (receiverType & MAP) result |= STRING | NIL;
    if (receiverType & NIL) result |= NIL;
    if (result !== 0) return result;
    if (receiverType & ROOT) fail(`unknown field .${name} (fields: ${fieldNames.join(" ")})`, offset);
    return fail(`can't evaluate field ${name} in type ${typeName(receiverType)}`, offset);
  };

  const compileFields = (receiver: Compiled, names: readonly string[], offset: number): Compiled => {
    const type = names.reduce((receiverType, name) => fieldType(receiverType, name, offset), receiver.type);
    const read = receiver.evaluate;
    const [only] = names;
    const evaluate: Evaluate =
      names.length === 1 && only !== undefined && read === identity
        ? (dot) => fieldOf(dot, only)
        : (dot) => {
            let value = read(dot);
            for (const name of names) value = fieldOf(value, name);
            return value;
          };
    return { evaluate: located(offset, evaluate), type };
  };

  const compileOperand = (operand: OperandNode, dotType: number): Compiled => {
    switch (operand.kind) {
      case "dot":
        if (dotType & ROOT) for (const name of fieldNames) fieldsUsed.add(name);
        return { evaluate: identity, type: dotType };
      case "field":
        return compileFields({ evaluate: identity, type: dotType }, operand.names, operand.offset);
      case "chain":
        return compileFields(compileOperand(operand.receiver, dotType), operand.names, operand.offset);
      case "identifier":
        return compileCall(operand.name, [], null, operand.offset);
      case "string":
        return constant(operand.value, STRING);
      case "int":
        return constant(operand.value, INT);
      case "bool":
        return constant(operand.value, BOOL);
      case "nil":
        return constant(null, NIL);
      case "pipe":
        return compilePipe(operand.pipe, dotType);
    }
  };

  const compileCommand = (command: CommandNode, dotType: number, final: Compiled | null): Compiled => {
    const [first, ...rest] = command.args;
    if (first === undefined) return fail("empty command", command.offset);
    if (first.kind === "identifier") {
      return compileCall(first.name, rest.map((arg) => compileOperand(arg, dotType)), final, first.offset);
    }
    if (first.kind === "nil") fail("nil is not a command", first.offset);
    if (rest.length > 0 || final !== null) fail(`can't give argument to ${describeOperand(first)}`, first.offset);
    return compileOperand(first, dotType);
  };

  const compilePipe = (pipe: PipeNode, dotType: number): Compiled => {
    let result: Compiled | null = null;
    for (const command of pipe.commands) result = compileCommand(command, dotType, result);
    return result ?? fail("missing value", pipe.offset);
  };

  const compileRange = (node: Extract<TemplateNode, { readonly list: unknown }>, dotType: number): Emit => {
    const { evaluate, type } = compilePipe(node.pipe, dotType);
    if (!(type & (LIST | MAP | INT | NIL))) fail(`range can't iterate over ${typeName(type)}`, node.offset);
    const elementType = (type & (LIST | MAP) ? STRING : 0) | (type & INT ? INT : 0) || NIL;
    const body = compileList(node.list, elementType);
    const otherwise = compileList(node.elseList ?? [], dotType);
    return located(node.offset, (dot: TemplateValue): string => {
      const value = evaluate(dot);
      let out = "";
      if (Array.isArray(value)) {
        const list: readonly string[] = value;
        for (const element of list) out += body(element);
        if (list.length > 0) return out;
      } else if (typeof value === "number") {
        if (value > MAX_RANGE_COUNT) throw new TemplateExecutionError(`range over ${value}: counts above ${MAX_RANGE_COUNT} are not supported`);
        for (let i = 0; i < value; i++) out += body(i);
        if (value > 0) return out;
      } else if (isStringMap(value)) {
        const keys = sortedKeys(value);
        for (const key of keys) out += body(value[key] ?? "");
        if (keys.length > 0) return out;
      } else if (value !== null) {
        throw new TemplateExecutionError(`range can't iterate over ${formatValue(value, "v")}`);
      }
      return otherwise(dot);
    });
  };

  const compileNode = (node: TemplateNode, dotType: number): Emit | string => {
    switch (node.kind) {
      case "text":
        return node.text;
      case "action": {
        const { evaluate, constant: known } = compilePipe(node.pipe, dotType);
        if (known !== undefined) return printValue(known);
        return located(node.offset, (dot: TemplateValue) => printValue(evaluate(dot)));
      }
      case "if": {
        const condition = compilePipe(node.pipe, dotType).evaluate;
        const then = compileList(node.list, dotType);
        const otherwise = compileList(node.elseList ?? [], dotType);
        return (dot) => (isTrue(condition(dot)) ? then(dot) : otherwise(dot));
      }
      case "with": {
        const { evaluate, type } = compilePipe(node.pipe, dotType);
        const then = compileList(node.list, type & ~NIL || type);
        const otherwise = compileList(node.elseList ?? [], dotType);
        return (dot) => {
          const value = evaluate(dot);
          return isTrue(value) ? then(value) : otherwise(dot);
        };
      }
      case "range":
        return compileRange(node, dotType);
    }
  };

  const compileList = (nodes: readonly TemplateNode[], dotType: number): Emit => {
    const parts: (Emit | string)[] = [];
    for (const node of nodes) {
      const part = compileNode(node, dotType);
      const last = parts[parts.length - 1];
      if (typeof part === "string" && typeof last === "string") parts[parts.length - 1] = last + part;
      else parts.push(part);
    }
    const [only] = parts;
    if (parts.length <= 1) return typeof only === "function" ? only : () => only ?? "";
    const emits = parts.map((part): Emit => (typeof part === "string" ? () => part : part));
    return (dot) => {
      let out = "";
      for (const emit of emits) out += emit(dot);
      return out;
    };
  };

  const emit = compileList(parseTemplate(source, FUNCTION_NAMES), ROOT);
  return {
    source,
    fieldsUsed,
    execute: (data) => emit(new TemplateRoot(data, fieldNames)),
  };
}
