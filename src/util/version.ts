/** The program version (package.json, embedded at build time) and, in compiled binaries, the build's commit and date. */
import packageJson from "../../package.json" with { type: "json" };

// Replaced by Bun's `define` at build time; undeclared (typeof "undefined") when running from source.
declare const PROM_ADAPTER_GIT_COMMIT: string | undefined;
declare const PROM_ADAPTER_BUILD_DATE: string | undefined;

export const VERSION: string = packageJson.version;

/** The build's commit and RFC 3339 date as scripts/build.ts injected them; `undefined` when running from source. */
export function buildConstants(): { gitCommit: string | undefined; buildDate: string | undefined } {
  return {
    gitCommit: typeof PROM_ADAPTER_GIT_COMMIT === "string" ? PROM_ADAPTER_GIT_COMMIT : undefined,
    buildDate: typeof PROM_ADAPTER_BUILD_DATE === "string" ? PROM_ADAPTER_BUILD_DATE : undefined,
  };
}
