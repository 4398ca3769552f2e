/**
 * `GET /version` (docs/api.md, Operational endpoints), in the shape of k8s.io/apimachinery `version.Info`:
 * `gitVersion` is the package version; `gitCommit` and `buildDate` are the constants `PROM_ADAPTER_GIT_COMMIT` and
 * `PROM_ADAPTER_BUILD_DATE` that scripts/build.ts defines in compiled binaries, else `"unknown"` and
 * `"1970-01-01T00:00:00Z"` (running from source); `platform` is Go's `GOOS/GOARCH` spelling of the running process.
 */
import { Elysia } from "elysia";
import { buildConstants, VERSION } from "../util/version.ts";
import { jsonResponse, wantsPretty } from "./json.ts";
import type { VersionInfo } from "./schemas.ts";

/** Node's `process.arch` names mapped to Go's GOARCH names; others are passed through. */
const GO_ARCH: Readonly<Record<string, string>> = {
  x64: "amd64",
  ia32: "386",
  arm64: "arm64",
  arm: "arm",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
};

/** Go's `GOOS/GOARCH` for a Node platform and arch, e.g. `linux/amd64`. */
export function goPlatform(platform: string = process.platform, arch: string = process.arch): string {
  return `${platform === "win32" ? "windows" : platform}/${GO_ARCH[arch] ?? arch}`;
}

/** The `/version` body. */
export function versionInfo(
  { gitCommit, buildDate }: { gitCommit: string | undefined; buildDate: string | undefined } = buildConstants(),
  platform: string = goPlatform(),
): typeof VersionInfo.static {
  return {
    major: "1",
    minor: "0",
    gitVersion: VERSION,
    gitCommit: gitCommit ?? "unknown",
    buildDate: buildDate ?? "1970-01-01T00:00:00Z",
    compiler: "bun",
    platform,
  };
}

/** The `/version` plugin; the body is built once. */
export function versionApi() {
  const body = versionInfo();
  return new Elysia({ name: "version" }).get("/version", ({ request }) =>
    jsonResponse(body, { pretty: wantsPretty(new URL(request.url)) }),
  );
}
