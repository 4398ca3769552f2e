/**
 * The `<< >>` templates of rules files (metricsQuery, resources.template): Go text/template with delimiters `<<`
 * and `>>` — variables, if/with/range with else, break/continue, pipelines and every builtin function. A template
 * is compiled once — parsed, type-checked against the fields the caller provides, turned into closures — and
 * executed many times without parsing.
 *
 * NB: over 350 lines: the compiler of every node kind of Go's text/template tree lives here, one case per kind, the
 * way Go's exec.go keeps them together.
 */
import { TemplateExecutionError } from "./errors.ts";
import { printValue } from "./format.ts";
import { compileCall, FUNCTION_NAMES } from "./functions.ts";
import { parseTemplate, type CommandNode, type OperandNode, type PipeNode, type TemplateNode } from "./parser.ts";
import {
  BOOL,
  constant,
  fail,
  INT,
  LIST,
  located,
  MAP,
  NIL,
  ROOT,
  STRING,
  typeName,
  type Compiled,
  type Evaluate,
} from "./types.ts";
import {
  fieldOf,
  isStringMap,
  isTrue,
  sortedKeys,
  TemplateRoot,
  type TemplateData,
  type TemplateValue,
} from "./values.ts";

export { TemplateCompileError, TemplateExecutionError } from "./errors.ts";
export type { TemplateData } from "./values.ts";

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

/** Where an execution writes its text. */
interface Output {
  text: string;
}

type Emit = (dot: TemplateValue, out: Output) => void;

/** Thrown by `<<break>>` and `<<continue>>`, caught by the innermost `range` (Go panics with walkBreak alike). */
const BREAK = Symbol("break");
const CONTINUE = Symbol("continue");

const FIELD_TYPES: Readonly<Record<FieldKind, number>> = { string: STRING, list: LIST, map: MAP };
/** Static type of a variable that some `$x = ...` assigns: any kind. */
const ANY = STRING | INT | BOOL | LIST | MAP | ROOT | NIL;

/** How an operand that is not a function is named in "can't give argument to ..." messages. */
function describeOperand(operand: OperandNode): string {
  switch (operand.kind) {
    case "field":
      return `field .${operand.names.join(".")}`;
    case "chain":
      return operand.receiver.kind === "variable"
        ? `non-function ${operand.receiver.name}.${operand.names.join(".")}`
        : `field .${operand.names.join(".")}`;
    case "variable":
      return `non-function ${operand.name}`;
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

/** Runs `emit`, giving an execution error without a position the offset of the node. */
function locatedEmit(offset: number, emit: Emit): Emit {
  return (dot, out) => {
    try {
      emit(dot, out);
    } catch (error) {
      if (error instanceof TemplateExecutionError && error.offset < 0) {
        throw new TemplateExecutionError(error.detail, offset);
      }
      throw error;
    }
  };
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

  const parsed = parseTemplate(source, FUNCTION_NAMES);
  // Values of the variables during an execution, by slot. Executions never nest, so one array per template will do.
  let frame: TemplateValue[] = [];
  const slotTypes: number[] = [ROOT];
  const setSlotType = (slot: number, type: number): void => {
    slotTypes[slot] = parsed.assignedSlots.has(slot) ? ANY : type;
  };

  const compileOperand = (operand: OperandNode, dotType: number, asReceiver = false): Compiled => {
    switch (operand.kind) {
      case "dot":
        if (dotType & ROOT && !asReceiver) for (const name of fieldNames) fieldsUsed.add(name);
        return { evaluate: identity, type: dotType };
      case "variable": {
        const { slot } = operand;
        const type = slotTypes[slot] ?? ANY;
        if (type & ROOT && !asReceiver) for (const name of fieldNames) fieldsUsed.add(name);
        return { evaluate: () => frame[slot] ?? null, type };
      }
      case "field":
        return compileFields({ evaluate: identity, type: dotType }, operand.names, operand.offset);
      case "chain":
        return compileFields(compileOperand(operand.receiver, dotType, true), operand.names, operand.offset);
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
      return compileCall(
        first.name,
        rest.map((arg) => compileOperand(arg, dotType)),
        final,
        first.offset,
      );
    }
    if (first.kind === "nil") fail("nil is not a command", first.offset);
    if (rest.length > 0 || final !== null) fail(`can't give argument to ${describeOperand(first)}`, first.offset);
    return compileOperand(first, dotType);
  };

  /** The pipeline's commands, without its declarations. */
  const compileCommands = (pipe: PipeNode, dotType: number): Compiled => {
    let result: Compiled | null = null;
    for (const command of pipe.commands) result = compileCommand(command, dotType, result);
    return result ?? fail("missing value", pipe.offset);
  };

  /** The pipeline; its value is also stored in the variables it declares or assigns, as Go's evalPipeline. */
  const compilePipe = (pipe: PipeNode, dotType: number): Compiled => {
    const commands = compileCommands(pipe, dotType);
    if (pipe.decl.length === 0) return commands;
    const slots = pipe.decl.map((target) => target.slot);
    for (const slot of slots) if (!pipe.isAssign) setSlotType(slot, commands.type);
    const read = commands.evaluate;
    return {
      evaluate: (dot) => {
        const value = read(dot);
        for (const slot of slots) frame[slot] = value;
        return value;
      },
      type: commands.type,
    };
  };

  const compileRange = (node: Extract<TemplateNode, { readonly list: unknown }>, dotType: number): Emit => {
    const { evaluate, type } = compilePipe(node.pipe, dotType);
    if (!(type & (LIST | MAP | INT | NIL))) fail(`range can't iterate over ${typeName(type)}`, node.offset);
    const elementType = (type & (LIST | MAP) ? STRING : 0) | (type & INT ? INT : 0) || NIL;
    const keyType = (type & (LIST | INT) ? INT : 0) | (type & MAP ? STRING : 0) || NIL;
    const [first, second] = node.pipe.decl;
    if (second !== undefined && type === INT) {
      fail(`can't use ${typeName(type)} to iterate over more than one variable`, node.offset);
    }
    if (first !== undefined && !node.pipe.isAssign) setSlotType(first.slot, (second ? keyType : elementType) | type);
    if (second !== undefined && !node.pipe.isAssign) setSlotType(second.slot, elementType | type);
    const body = compileList(node.list, elementType);
    const otherwise = compileList(node.elseList ?? [], dotType);
    const keySlot = second === undefined ? -1 : (first?.slot ?? -1);
    const elementSlot = (second ?? first)?.slot ?? -1;
    /** One pass of the body; false when it ran `<<break>>`. */
    const iteration = (key: TemplateValue, element: TemplateValue, out: Output): boolean => {
      if (keySlot >= 0) frame[keySlot] = key;
      if (elementSlot >= 0) frame[elementSlot] = element;
      try {
        body(element, out);
      } catch (signal) {
        if (signal === BREAK) return false;
        if (signal !== CONTINUE) throw signal;
      }
      return true;
    };
    return locatedEmit(node.offset, (dot, out) => {
      const value = evaluate(dot);
      if (Array.isArray(value)) {
        const list: readonly string[] = value;
        for (let i = 0; i < list.length; i++) if (!iteration(i, list[i] ?? "", out)) break;
        if (list.length > 0) return;
      } else if (typeof value === "number") {
        if (value > MAX_RANGE_COUNT)
          throw new TemplateExecutionError(`range over ${value}: counts above ${MAX_RANGE_COUNT} are not supported`);
        if (second !== undefined) {
          throw new TemplateExecutionError(`can't use ${value} to iterate over more than one variable`);
        }
        for (let i = 0; i < value; i++) if (!iteration(i, i, out)) break;
        if (value > 0) return;
      } else if (isStringMap(value)) {
        const keys = sortedKeys(value);
        for (const key of keys) if (!iteration(key, value[key] ?? "", out)) break;
        if (keys.length > 0) return;
      } else if (value !== null) {
        throw new TemplateExecutionError(`range can't iterate over ${printValue(value)}`);
      }
      otherwise(dot, out);
    });
  };

  const compileNode = (node: TemplateNode, dotType: number): Emit | string => {
    switch (node.kind) {
      case "text":
        return node.text;
      case "action": {
        const { evaluate, constant: known } = compilePipe(node.pipe, dotType);
        // NB: an action that declares or assigns variables prints nothing, as in Go.
        if (node.pipe.decl.length > 0) return locatedEmit(node.offset, (dot) => void evaluate(dot));
        if (known !== undefined) return printValue(known);
        return locatedEmit(node.offset, (dot, out) => {
          out.text += printValue(evaluate(dot));
        });
      }
      case "if": {
        const condition = compilePipe(node.pipe, dotType).evaluate;
        const then = compileList(node.list, dotType);
        const otherwise = compileList(node.elseList ?? [], dotType);
        return (dot, out) => (isTrue(condition(dot)) ? then(dot, out) : otherwise(dot, out));
      }
      case "with": {
        const { evaluate, type } = compilePipe(node.pipe, dotType);
        const then = compileList(node.list, type & ~NIL || type);
        const otherwise = compileList(node.elseList ?? [], dotType);
        return (dot, out) => {
          const value = evaluate(dot);
          if (isTrue(value)) then(value, out);
          else otherwise(dot, out);
        };
      }
      case "range":
        return compileRange(node, dotType);
      case "break":
        return () => {
          throw BREAK;
        };
      case "continue":
        return () => {
          throw CONTINUE;
        };
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
    const emits = parts.map(
      (part): Emit =>
        typeof part === "string"
          ? (_dot, out) => {
              out.text += part;
            }
          : part,
    );
    const [only] = emits;
    if (emits.length === 0) return () => {};
    if (emits.length === 1 && only !== undefined) return only;
    return (dot, out) => {
      for (const emit of emits) emit(dot, out);
    };
  };

  const emit = compileList(parsed.nodes, ROOT);
  return {
    source,
    fieldsUsed,
    execute: (data) => {
      const root = new TemplateRoot(data, fieldNames);
      const out: Output = { text: "" };
      frame = new Array<TemplateValue>(parsed.slotCount).fill(null);
      frame[0] = root;
      emit(root, out);
      return out.text;
    },
  };
}
