import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMemoryLogger } from "../observability/logger.ts";
import { parseRulesText } from "./load.ts";
import { createRulesReloader } from "./reload.ts";

const rulesWith = (metricsQuery: string) => `rules:\n- seriesQuery: up\n  metricsQuery: ${metricsQuery}\n`;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(initial: string) {
  const dir = mkdtempSync(join(tmpdir(), "reload-"));
  dirs.push(dir);
  const file = join(dir, "config.yaml");
  writeFileSync(file, initial);
  const applied: string[] = [];
  const outcomes: boolean[] = [];
  const logger = createMemoryLogger();
  const reloader = createRulesReloader({
    file,
    initialText: initial,
    compile: (text) => parseRulesText(text, file).rules.rules[0]?.metricsQuery ?? "",
    apply: (query) => applied.push(query),
    onOutcome: (ok) => outcomes.push(ok),
    logger,
  });
  return { dir, file, applied, outcomes, logger, reloader };
}

describe("rules reload", () => {
  test("an unchanged file is not recompiled", async () => {
    const { reloader, applied } = setup(rulesWith("a"));
    expect(await reloader.reload()).toEqual({ ok: true, changed: false });
    expect(applied).toEqual([]);
  });

  test("a valid change is applied; a forced reload (SIGHUP) applies even unchanged content", async () => {
    const { file, reloader, applied, outcomes } = setup(rulesWith("a"));
    writeFileSync(file, rulesWith("b"));
    expect(await reloader.reload()).toEqual({ ok: true, changed: true });
    expect(await reloader.reload({ force: true })).toEqual({ ok: true, changed: true });
    expect(applied).toEqual(["b", "b"]);
    expect(outcomes).toEqual([true, true]);
  });

  test("an invalid file is rejected with file:line:col, the old rules stay, and it is reported once", async () => {
    const { file, reloader, applied, outcomes, logger } = setup(rulesWith("a"));
    writeFileSync(file, "rules:\n- seriesQuery: up\n  metricsQeury: x\n");
    expect(await reloader.reload()).toEqual({ ok: false, changed: true });
    expect(await reloader.reload()).toEqual({ ok: true, changed: false });
    expect(applied).toEqual([]);
    expect(outcomes).toEqual([false]);
    expect(logger.lines.join("\n")).toContain(`${file}:3:3: rules[0]: unknown field "metricsQeury"`);

    writeFileSync(file, rulesWith("c"));
    expect(await reloader.reload()).toEqual({ ok: true, changed: true });
    expect(applied).toEqual(["c"]);
  });

  test("a ConfigMap-style ..data symlink swap is picked up", async () => {
    const { dir } = setup(rulesWith("unused"));
    const mount = join(dir, "mount");
    mkdirSync(join(mount, "v1"), { recursive: true });
    mkdirSync(join(mount, "v2"), { recursive: true });
    writeFileSync(join(mount, "v1", "config.yaml"), rulesWith("first"));
    writeFileSync(join(mount, "v2", "config.yaml"), rulesWith("second"));
    symlinkSync("v1", join(mount, "..data"));
    symlinkSync("..data/config.yaml", join(mount, "config.yaml"));
    const applied: string[] = [];
    const reloader = createRulesReloader({
      file: join(mount, "config.yaml"),
      initialText: rulesWith("first"),
      compile: (text) => parseRulesText(text, "config.yaml").rules.rules[0]?.metricsQuery ?? "",
      apply: (query) => applied.push(query),
      logger: createMemoryLogger(),
    });
    // The kubelet writes a new directory, points a temporary link at it, and renames the link over ..data.
    symlinkSync("v2", join(mount, "..data_tmp"));
    renameSync(join(mount, "..data_tmp"), join(mount, "..data"));
    expect(await reloader.reload()).toEqual({ ok: true, changed: true });
    expect(applied).toEqual(["second"]);
  });

  test("a file that disappears is an error that keeps the rules", async () => {
    const { file, reloader, applied, outcomes } = setup(rulesWith("a"));
    rmSync(file);
    expect(await reloader.reload()).toEqual({ ok: false, changed: true });
    expect(applied).toEqual([]);
    expect(outcomes).toEqual([false]);
  });
});
