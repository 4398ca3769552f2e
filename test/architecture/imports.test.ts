/**
 * The layout's promise, checked: `src/` folders follow the data flow, and a module imports only from its own stage
 * or an earlier one. A backwards import or an import cycle fails here with the files named.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../../src");

/**
 * Stages in data-flow order. A module may import from a stage with the same or a lower rank. `util/` and
 * `observability/` are open to every stage; the Go and apimachinery ports sit below everything that does I/O.
 */
const STAGE_RANK: Readonly<Record<string, number>> = {
  util: 0,
  observability: 0,
  golang: 1,
  apimachinery: 2,
  config: 3,
  naming: 4,
  prometheus: 5,
  discovery: 6,
  providers: 7,
  kubernetes: 8,
  api: 9,
  server: 10,
  "options.ts": 11,
  app: 12,
  commands: 13,
  "main.ts": 14,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith(".ts") && !name.endsWith(".test.ts") && !name.endsWith(".d.ts") ? [path] : [];
  });
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

/** Relative imports of one file that resolve inside `src/`, as absolute paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const targets: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const target = resolve(dirname(file), (match[1] ?? match[2])!);
    if (target.startsWith(SRC + "/") && target.endsWith(".ts")) targets.push(target);
  }
  return targets;
}

function stageOf(file: string): string {
  return relative(SRC, file).split("/")[0]!;
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((file) => [file, importsOf(file)]));

/** Tarjan's strongly connected components; every component of more than one file is a cycle. */
function cycles(): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    indexOf.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indexOf.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, indexOf.get(next)!));
    }
    if (low.get(node) === indexOf.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(relative(SRC, member));
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const file of files) if (!indexOf.has(file)) visit(file);
  return found;
}

describe("the src/ import graph", () => {
  test("every top-level folder and file of src/ has a stage", () => {
    const unknown = readdirSync(SRC)
      .filter((name) => name !== "types" && !name.endsWith(".test.ts"))
      .filter((name) => STAGE_RANK[name] === undefined);
    expect(unknown).toEqual([]);
  });

  test("no module imports from a later stage", () => {
    const backwards: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        if (STAGE_RANK[stageOf(target)]! > STAGE_RANK[stageOf(file)]!) {
          backwards.push(`${relative(SRC, file)} → ${relative(SRC, target)}`);
        }
      }
    }
    expect(backwards).toEqual([]);
  });

  test("no import cycle, between files or through re-exports", () => {
    expect(cycles()).toEqual([]);
  });
});
