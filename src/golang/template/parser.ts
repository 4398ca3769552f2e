/**
 * Parser of the `<< >>` template language: Go text/template/parse/parse.go (everything but define, template, block
 * and floating-point or complex constants). Produces a syntax tree in which each variable is resolved to a numbered
 * slot; types, field names and function arity are checked later by query-template.ts.
 *
 * NB: over 350 lines: a port of Go's text/template/parse/parse.go, kept in one file in the order of the original so
 * the two can be read side by side.
 */
import { TemplateCompileError } from "./errors.ts";
import { lexTemplate, type Token, type TokenKind } from "./lexer.ts";
import { parseGoInteger, unquoteGoChar, unquoteGoString } from "./literals.ts";
import { goQuote } from "../strconv.ts";

export type OperandNode =
  | { readonly kind: "dot"; readonly offset: number }
  /** `.A.B`: fields read from dot. */
  | { readonly kind: "field"; readonly names: readonly string[]; readonly offset: number }
  /** `(pipeline).A.B` or `function.A`: fields read from another operand. */
  | {
      readonly kind: "chain";
      readonly receiver: OperandNode;
      readonly names: readonly string[];
      readonly offset: number;
    }
  | { readonly kind: "identifier"; readonly name: string; readonly offset: number }
  | { readonly kind: "string"; readonly value: string; readonly text: string; readonly offset: number }
  | { readonly kind: "int"; readonly value: number; readonly text: string; readonly offset: number }
  | { readonly kind: "bool"; readonly value: boolean; readonly offset: number }
  | { readonly kind: "nil"; readonly offset: number }
  /** `$name` (or `$`, slot 0): the slot of the declaration the name refers to. */
  | { readonly kind: "variable"; readonly name: string; readonly slot: number; readonly offset: number }
  /** A parenthesised pipeline. */
  | { readonly kind: "pipe"; readonly pipe: PipeNode; readonly offset: number };

/** Space-separated operands; the first is the function (or the value) of the command. */
export interface CommandNode {
  readonly args: readonly OperandNode[];
  readonly offset: number;
}

/** A variable declared (`$x :=`) or assigned (`$x =`) by a pipeline. */
export interface VariableTarget {
  readonly name: string;
  readonly slot: number;
  readonly offset: number;
}

/** Commands separated by `|`; each command's result is the last argument of the next one. */
export interface PipeNode {
  readonly commands: readonly CommandNode[];
  /** Variables set to the pipeline's value (for `range`, to each key/index and element); empty when none. */
  readonly decl: readonly VariableTarget[];
  /** True for `$x = ...` (assign existing variables), false for `$x := ...` (declare new ones). */
  readonly isAssign: boolean;
  readonly offset: number;
}

export type TemplateNode =
  | { readonly kind: "text"; readonly text: string; readonly offset: number }
  | { readonly kind: "action"; readonly pipe: PipeNode; readonly offset: number }
  | {
      readonly kind: "if" | "with" | "range";
      readonly pipe: PipeNode;
      readonly list: readonly TemplateNode[];
      readonly elseList: readonly TemplateNode[] | null;
      readonly offset: number;
    }
  | { readonly kind: "break" | "continue"; readonly offset: number };

/** A parsed template: its nodes and what the compiler needs to know about its variables. */
export interface ParsedTemplate {
  readonly nodes: readonly TemplateNode[];
  /** Number of variable slots; slot 0 is `$`, the data the template runs on. */
  readonly slotCount: number;
  /** Slots that some `$x = ...` assigns after their declaration, so their static type is unknown. */
  readonly assignedSlots: ReadonlySet<number>;
}

type ListEnd = { readonly kind: "end"; readonly offset: number } | { readonly kind: "else"; readonly offset: number };

/** Go builtins that cannot apply to rules data (it holds no functions): named as unsupported rather than unknown. */
const UNSUPPORTED_GO_FUNCTIONS: ReadonlySet<string> = new Set(["call"]);
/** Limits on nesting (control structures, parentheses) and pipeline length, so that input cannot exhaust the stack. */
const MAX_DEPTH = 500;
const MAX_PIPELINE_COMMANDS = 500;
const OPERAND_START: ReadonlySet<TokenKind> = new Set([
  "bool",
  "charConstant",
  "complex",
  "dot",
  "field",
  "identifier",
  "number",
  "nil",
  "rawString",
  "string",
  "variable",
  "leftParen",
]);

function fail(detail: string, offset: number): never {
  throw new TemplateCompileError(detail, offset);
}

/** How Go names a token in "unexpected X" messages. */
function describe(token: Token): string {
  if (token.kind === "eof") return "EOF";
  if (token.kind === "keyword" || token.kind === "dot" || token.kind === "nil") return `<${token.value}>`;
  const runes = [...token.value];
  return runes.length > 10 ? `${goQuote(runes.slice(0, 10).join(""))}...` : goQuote(token.value);
}

/**
 * Parses template source. `functions` names the functions the caller implements. Throws TemplateCompileError for
 * syntax errors, undefined variables, `break`/`continue` outside `range`, and the constructs not implemented
 * (define, template, block, unknown functions, floating-point and complex constants).
 */
export function parseTemplate(source: string, functions: ReadonlySet<string>): ParsedTemplate {
  const tokens = lexTemplate(source);
  let index = 0;
  let depth = 0;
  let rangeDepth = 0;
  // Variables in scope, innermost last, as Go's Tree.vars; a control structure pops what it declared at its end.
  const scope: { name: string; slot: number }[] = [{ name: "$", slot: 0 }];
  let slotCount = 1;
  const assignedSlots = new Set<number>();
  const declare = (name: string, offset: number): VariableTarget => {
    const slot = slotCount++;
    scope.push({ name, slot });
    return { name, slot, offset };
  };
  const lookup = (name: string, offset: number): number => {
    for (let i = scope.length - 1; i >= 0; i--) if (scope[i]?.name === name) return scope[i]?.slot ?? 0;
    return fail(`undefined variable ${goQuote(name)}`, offset);
  };

  const eofToken = tokens[tokens.length - 1] ?? { kind: "eof", value: "", offset: source.length };
  const peek = (): Token => tokens[index] ?? eofToken;
  const next = (): Token => tokens[index++] ?? eofToken;
  const nextNonSpace = (): Token => {
    let token = next();
    while (token.kind === "space") token = next();
    return token;
  };
  const peekNonSpace = (): Token => {
    const token = nextNonSpace();
    index--;
    return token;
  };
  const unexpected = (token: Token, context: string): never =>
    fail(`unexpected ${describe(token)} in ${context}`, token.offset);
  const enter = (offset: number): void => {
    if (++depth > MAX_DEPTH) fail("template nesting too deep", offset);
  };

  const term = (): OperandNode | null => {
    const token = nextNonSpace();
    const offset = token.offset;
    switch (token.kind) {
      case "identifier":
        if (UNSUPPORTED_GO_FUNCTIONS.has(token.value))
          fail(`function ${goQuote(token.value)} is not supported`, offset);
        if (!functions.has(token.value)) fail(`function ${goQuote(token.value)} not defined`, offset);
        return { kind: "identifier", name: token.value, offset };
      case "dot":
        return { kind: "dot", offset };
      case "nil":
        return { kind: "nil", offset };
      case "variable":
        return { kind: "variable", name: token.value, slot: lookup(token.value, offset), offset };
      case "field":
        return { kind: "field", names: [token.value.slice(1)], offset };
      case "bool":
        return { kind: "bool", value: token.value === "true", offset };
      case "charConstant": {
        const value = unquoteGoChar(token.value);
        if (value === null) fail(`malformed character constant: ${token.value}`, offset);
        return { kind: "int", value, text: token.value, offset };
      }
      case "complex":
        return fail(`complex constants are not supported: ${token.value}`, offset);
      case "number": {
        const parsed = parseGoInteger(token.value);
        if ("error" in parsed) fail(parsed.error, offset);
        return { kind: "int", value: parsed.value, text: token.value, offset };
      }
      case "leftParen": {
        enter(offset);
        const inner = pipeline("parenthesized pipeline", "rightParen");
        depth--;
        return { kind: "pipe", pipe: inner, offset };
      }
      case "string":
      case "rawString": {
        const value = unquoteGoString(token.value);
        if (value === null) fail(`invalid string literal ${token.value}`, offset);
        return { kind: "string", value, text: token.value, offset };
      }
    }
    index--;
    return null;
  };

  const operand = (): OperandNode | null => {
    const node = term();
    if (node === null || peek().kind !== "field") return node;
    const names: string[] = [];
    while (peek().kind === "field") names.push(next().value.slice(1));
    switch (node.kind) {
      case "field":
        return { kind: "field", names: [...node.names, ...names], offset: node.offset };
      case "identifier":
      case "pipe":
      case "variable":
        return { kind: "chain", receiver: node, names, offset: node.offset };
      case "string":
      case "int":
        return fail(`unexpected . after term ${goQuote(node.text)}`, node.offset);
      case "bool":
        return fail(`unexpected . after term ${goQuote(String(node.value))}`, node.offset);
      default:
        return fail(`unexpected . after term ${goQuote(node.kind === "dot" ? "." : "nil")}`, node.offset);
    }
  };

  const command = (): CommandNode => {
    const offset = peekNonSpace().offset;
    const args: OperandNode[] = [];
    for (;;) {
      peekNonSpace();
      const node = operand();
      if (node !== null) args.push(node);
      const token = next();
      if (token.kind === "space") continue;
      if (token.kind === "rightDelim" || token.kind === "rightParen") index--;
      else if (token.kind !== "pipe") unexpected(token, "operand");
      break;
    }
    if (args.length === 0) fail("empty command", offset);
    return { args, offset };
  };

  /** Go's pipeline declarations: `$x :=`, `$x =`, and in `range` `$k, $v :=` or `$k, $v =`. */
  const declarations = (context: string): { decl: VariableTarget[]; isAssign: boolean } => {
    const names: Token[] = [];
    for (;;) {
      const start = index;
      const variable = nextNonSpace();
      if (variable.kind !== "variable") {
        index = start;
        break;
      }
      const after = nextNonSpace();
      if (after.kind === "declare" || after.kind === "assign") {
        names.push(variable);
        const isAssign = after.kind === "assign";
        if (isAssign) {
          const decl = names.map((name) => ({
            name: name.value,
            slot: lookup(name.value, name.offset),
            offset: name.offset,
          }));
          for (const target of decl) assignedSlots.add(target.slot);
          return { decl, isAssign };
        }
        return { decl: names.map((name) => declare(name.value, name.offset)), isAssign };
      }
      if (after.kind === "char" && after.value === ",") {
        names.push(variable);
        if (context !== "range" || names.length > 1) fail(`too many declarations in ${context}`, after.offset);
        const following = peekNonSpace();
        if (following.kind !== "variable") fail("range can only initialize variables", following.offset);
        continue;
      }
      if (names.length > 0) unexpected(after, context);
      index = start;
      break;
    }
    return { decl: [], isAssign: false };
  };

  const pipeline = (context: string, end: TokenKind): PipeNode => {
    const offset = peekNonSpace().offset;
    const { decl, isAssign } = declarations(context);
    const commands: CommandNode[] = [];
    for (;;) {
      const token = nextNonSpace();
      if (token.kind === end) break;
      if (!OPERAND_START.has(token.kind)) unexpected(token, context);
      index--;
      commands.push(command());
      if (commands.length > MAX_PIPELINE_COMMANDS) fail("pipeline too long", token.offset);
    }
    if (commands.length === 0) fail(`missing value for ${context}`, offset);
    commands.forEach((cmd, i) => {
      const first = cmd.args[0];
      if (i > 0 && first && ["bool", "dot", "nil", "int", "string"].includes(first.kind)) {
        fail(`non executable command in pipeline stage ${i + 1}`, cmd.offset);
      }
    });
    return { commands, decl, isAssign, offset };
  };

  const itemList = (): { list: TemplateNode[]; end: ListEnd } => {
    const list: TemplateNode[] = [];
    while (peekNonSpace().kind !== "eof") {
      const node = textOrAction();
      if (node.kind === "end" || node.kind === "else") return { list, end: node };
      list.push(node);
    }
    return fail("unexpected EOF", source.length);
  };

  const control = (kind: "if" | "with" | "range", offset: number): TemplateNode => {
    enter(offset);
    const outerScope = scope.length;
    const pipe = pipeline(kind, "rightDelim");
    const pipeScope = scope.length;
    if (kind === "range") rangeDepth++;
    const { list, end } = itemList();
    if (kind === "range") rangeDepth--;
    // NB: Go's parser keeps the list's variables visible in else, but they are never set there when it runs (the
    // lookup then finds an outer variable of the same name, or fails); dropping them here resolves alike.
    scope.length = pipeScope;
    let elseList: TemplateNode[] | null = null;
    if (end.kind === "else") {
      const chained = peek();
      if (chained.kind === "keyword" && (chained.value === "if" || chained.value === "with")) {
        // `<<else if x>>` / `<<else with x>>` is `<<else>><<if x>>...<<end>>` with the inner end shared.
        if (chained.value !== kind) unexpected(chained, "input");
        next();
        elseList = [control(kind, chained.offset)];
      } else {
        const rest = itemList();
        if (rest.end.kind !== "end") fail("expected end; found <<else>>", rest.end.offset);
        elseList = rest.list;
      }
    }
    scope.length = outerScope;
    depth--;
    return { kind, pipe, list, elseList, offset };
  };

  const action = (delimOffset: number): TemplateNode | ListEnd => {
    const token = nextNonSpace();
    if (token.kind === "keyword") {
      switch (token.value) {
        case "if":
        case "with":
        case "range":
          return control(token.value, token.offset);
        case "end":
          if (nextNonSpace().kind !== "rightDelim") unexpected(tokens[index - 1] ?? eofToken, "end");
          return { kind: "end", offset: token.offset };
        case "else": {
          const following = peekNonSpace();
          if (following.kind === "keyword" && (following.value === "if" || following.value === "with")) {
            return { kind: "else", offset: token.offset };
          }
          if (nextNonSpace().kind !== "rightDelim") unexpected(following, "else");
          return { kind: "else", offset: token.offset };
        }
        case "break":
        case "continue":
          if (rangeDepth === 0) fail(`<<${token.value}>> outside <<range>>`, token.offset);
          if (nextNonSpace().kind !== "rightDelim") unexpected(tokens[index - 1] ?? eofToken, token.value);
          return { kind: token.value, offset: token.offset };
        default:
          return fail(`<<${token.value}>> is not supported`, token.offset);
      }
    }
    index--;
    return { kind: "action", pipe: pipeline("command", "rightDelim"), offset: delimOffset };
  };

  const textOrAction = (): TemplateNode | ListEnd => {
    const token = nextNonSpace();
    if (token.kind === "text") return { kind: "text", text: token.value, offset: token.offset };
    if (token.kind === "leftDelim") return action(token.offset);
    return unexpected(token, "input");
  };

  const root: TemplateNode[] = [];
  while (peek().kind !== "eof") {
    const node = textOrAction();
    if (node.kind === "end" || node.kind === "else") fail(`unexpected <<${node.kind}>>`, node.offset);
    root.push(node);
  }
  return { nodes: root, slotCount, assignedSlots };
}
