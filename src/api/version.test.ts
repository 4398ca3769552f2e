import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VERSION } from "../util/version.ts";
import { goPlatform, versionApi, versionInfo } from "./version.ts";

describe("/version", () => {
  test("answers version.Info with the package version; commit and date are placeholders when running from source", async () => {
    const response = await versionApi().handle(new Request("http://localhost/version"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.text()).toBe(
      `{"major":"1","minor":"0","gitVersion":"${VERSION}","gitCommit":"unknown","buildDate":"1970-01-01T00:00:00Z","compiler":"bun","platform":"${goPlatform()}"}\n`,
    );
  });

  test("uses the build constants when they are given", () => {
    expect(versionInfo({ gitCommit: "0123456789ab", buildDate: "2024-05-01T12:00:00Z" }, "linux/arm64")).toEqual({
      major: "1",
      minor: "0",
      gitVersion: VERSION,
      gitCommit: "0123456789ab",
      buildDate: "2024-05-01T12:00:00Z",
      compiler: "bun",
      platform: "linux/arm64",
    });
  });

  test("a bundle built with the constants defined reports them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "prom-adapter-version-"));
    try {
      const entry = join(dir, "entry.ts");
      writeFileSync(
        entry,
        `import { versionInfo } from ${JSON.stringify(join(import.meta.dir, "version.ts"))};\nconsole.log(JSON.stringify(versionInfo()));\n`,
      );
      const built = await Bun.build({
        entrypoints: [entry],
        outdir: join(dir, "out"),
        target: "bun",
        define: {
          PROM_ADAPTER_GIT_COMMIT: JSON.stringify("abc123"),
          PROM_ADAPTER_BUILD_DATE: JSON.stringify("2024-05-01T12:00:00Z"),
        },
      });
      expect(built.success).toBe(true);
      const run = Bun.spawnSync([process.execPath, join(dir, "out", "entry.js")], { stdout: "pipe", stderr: "pipe" });
      expect(JSON.parse(run.stdout.toString())).toMatchObject({
        gitCommit: "abc123",
        buildDate: "2024-05-01T12:00:00Z",
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([
    ["linux", "x64", "linux/amd64"],
    ["linux", "arm64", "linux/arm64"],
    ["darwin", "arm64", "darwin/arm64"],
    ["win32", "ia32", "windows/386"],
    ["linux", "ppc64", "linux/ppc64le"],
  ])("platform %s %s is %s", (platform, arch, expected) => {
    expect(goPlatform(platform, arch)).toBe(expected);
  });
});
