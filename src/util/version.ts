/** The program version (package.json, embedded at build time) and, in compiled binaries, the build's commit and date. */
import packageJson from "../../package.json" with { type: "json" };

declare const PROM_ADAPTER_GIT_COMMIT: string | undefined;
declare const PROM_ADAPTER_BUILD_DATE: string | undefined;

export const VERSION: string = packageJson.version;

/** Short git commit of the build; "unknown" when run from source. */
export const GIT_COMMIT: string = typeof PROM_ADAPTER_GIT_COMMIT === "string" ? PROM_ADAPTER_GIT_COMMIT : "unknown";

/** RFC 3339 build time; the Unix epoch when run from source. */
export const BUILD_DATE: string = typeof PROM_ADAPTER_BUILD_DATE === "string" ? PROM_ADAPTER_BUILD_DATE : "1970-01-01T00:00:00Z";
