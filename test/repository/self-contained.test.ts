/**
 * The repository stands alone: a fresh clone must pass `npm install && npm test` with nothing beside it, so no
 * tracked file may point at a sibling checkout. Uses `git ls-files`, so untracked scratch files do not count.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
// Built from parts so that this file's own source never contains the patterns it looks for: the sibling checkout,
// and the spec directory inside it however it is reached (an absolute path included).
const SIBLING = ["..", "shared"].join("/");
const PATTERNS = [SIBLING, ["shared", "spec"].join("/")];

function trackedFiles(): string[] {
  const listed = Bun.spawnSync(["git", "ls-files", "-z"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (listed.exitCode !== 0) throw new Error(`git ls-files failed: ${listed.stderr.toString()}`);
  return listed.stdout
    .toString()
    .split("\0")
    .filter((path) => path !== "");
}

describe("the repository stands alone", () => {
  test("git lists the repository's files", () => {
    expect(trackedFiles()).toContain("package.json");
  });

  test(`no tracked file references ${SIBLING}`, () => {
    const offenders: string[] = [];
    for (const path of trackedFiles()) {
      let text: string;
      try {
        text = readFileSync(join(ROOT, path), "utf8");
      } catch {
        continue; // a tracked path deleted in the work tree, or a symlink to a directory
      }
      text.split("\n").forEach((line, index) => {
        if (PATTERNS.some((pattern) => line.includes(pattern))) offenders.push(`${path}:${index + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});
