/**
 * The one way tests say why they are skipped, so that `.ci/run` can list every skip with its reason:
 * a line `SKIPPED <what>: <reason>` on stderr, printed while the test file loads (bun prints it in that file's
 * section of the output, above the file's `(skip)` lines). A reason made by {@link missingTool} starts with
 * `missing tool <name>:`; `.ci/run` fails when such a tool is one it installs, since those tests must run in CI.
 */

/** The reason text for a tool that is not installed, e.g. `missingTool("kubectl", "apt-get install kubernetes-client")`. */
export function missingTool(tool: string, hint: string): string {
  return `missing tool ${tool}: ${hint}`;
}

/** Prints `SKIPPED <what>: <reason>` when `reason` is not null; use next to `describe.skipIf(reason !== null)`. */
export function announceSkip(what: string, reason: string | null): void {
  if (reason !== null) console.warn(`SKIPPED ${what}: ${reason}`);
}

/** The kubectl on PATH, or null. */
export const KUBECTL: string | null = Bun.which("kubectl");

/** Why tests that run the real kubectl cannot run here, or null. */
export function kubectlSkipReason(): string | null {
  return KUBECTL === null ? missingTool("kubectl", "not found on PATH (apt-get install kubernetes-client)") : null;
}
