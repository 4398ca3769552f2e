/**
 * The skip report of .ci/run, run on its own against test-runner output written here: the section between its
 * "skip report (begin)" and "(end)" markers, with the shell options and variables the script sets before it.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const RUN = readFileSync(join(import.meta.dir, "..", "..", ".ci", "run"), "utf8");
const SECTION = /^# --- skip report \(begin\).*?^# --- skip report \(end\).*?$/ms.exec(RUN)?.[0];
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs the section on `log` as bun's output; returns what it printed and the status it left. */
function report(log: string): { output: string; status: number; failed: number; skipped: number } {
  const dir = mkdtempSync(join(tmpdir(), "prom-adapter-skip-report-"));
  dirs.push(dir);
  mkdirSync(join(dir, ".tmp"));
  writeFileSync(join(dir, ".tmp", "test-output.log"), log);
  const script = `set -uo pipefail\nstatus=0\npassed=1\nfailed=0\n${SECTION}\necho "END $status $failed $skipped"\n`;
  const run = Bun.spawnSync(["bash", "-c", script], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  const output = run.stdout.toString();
  const [, status, failed, skipped] = /END (\d+) (\d+) (\d+)/.exec(output) ?? [];
  return { output, status: Number(status), failed: Number(failed), skipped: Number(skipped) };
}

const bunOutput = (lines: string[]) => ["bun test v1.4.5", "", ...lines, "", " 1 pass", " 0 fail"].join("\n");

describe(".ci/run's skip report", () => {
  test("the section exists in .ci/run", () => {
    expect(SECTION).toBeDefined();
  });

  test("lists each skipped test with its file's announced reason, and counts them (not the hooks bun lists)", () => {
    const { output, status, skipped } = report(
      bunOutput([
        "test/a.test.ts:",
        "SKIPPED the chroot tests: not running as root",
        "(skip) chroot > (unnamed)",
        "(skip) chroot > one",
        "(skip) chroot > two",
        "(pass) other [1ms]",
        "test/b.test.ts:",
        "(pass) b [1ms]",
      ]),
    );
    expect(output).toContain("--- 2 skipped");
    expect(output).toContain("  test/a.test.ts > chroot > one: the chroot tests: not running as root");
    expect(output).toContain("  test/a.test.ts > chroot > two: the chroot tests: not running as root");
    expect({ status, skipped }).toEqual({ status: 0, skipped: 2 });
  });

  test("a skip without an announced reason is listed as such", () => {
    const { output } = report(bunOutput(["test/c.test.ts:", "(skip) silent"]));
    expect(output).toContain("  test/c.test.ts > silent: NO REASON ANNOUNCED (use test/support/skip.ts)");
  });

  test("fails the run when a tool CI installs was missing, and not for other reasons", () => {
    // A long log after the match: the check must not depend on reading the whole log through a pipe.
    const padding = Array.from({ length: 4000 }, (_, i) => `(pass) filler test number ${i} of a long run [1ms]`);
    const missing = report(
      bunOutput([
        "test/d.test.ts:",
        "SKIPPED kubectl tests: missing tool kubectl: not found on PATH",
        "(skip) k",
        ...padding,
      ]),
    );
    expect(missing.output).toContain("FAIL: tests that run in CI were skipped because kubectl is missing");
    expect({ status: missing.status, failed: missing.failed }).toEqual({ status: 1, failed: 1 });
    const other = report(bunOutput(["test/e.test.ts:", "SKIPPED ldd tests: missing tool ldd: not found", "(skip) l"]));
    expect({ status: other.status, failed: other.failed }).toEqual({ status: 0, failed: 0 });
  });

  test("a SKIPPED line outside any test file (a step after bun test) counts as one skip", () => {
    const { output, skipped } = report(
      `${bunOutput(["test/f.test.ts:", "(pass) f"])}\nSKIPPED image test: dockerd cannot start\n`,
    );
    expect(output).toContain("  image test: dockerd cannot start");
    expect(skipped).toBe(1);
  });
});
