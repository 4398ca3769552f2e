/**
 * deploy/Dockerfile's structure, checked without a container engine: two stages, pinned images (Bun's matching the
 * project's pinned Bun), the build from the npm lockfile, and a runtime stage holding only the compiled binary, run
 * as a numeric non-root user. Also that the distroless flavour fits what the compiled binary links.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import packageJson from "../../package.json" with { type: "json" };
import { announceSkip, missingTool } from "../support/skip.ts";

const REPO_ROOT = join(import.meta.dir, "..", "..");
const DOCKERFILE = join(REPO_ROOT, "deploy", "Dockerfile");

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

/** Splits a Dockerfile into stages of instructions: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = "";
  for (const line of text.split("\n")) {
    if (pending === "" && /^\s*#/.test(line)) continue;
    if (line.trim() === "" && pending === "") continue;
    if (/\\\s*$/.test(line)) {
      pending += `${line.replace(/\\\s*$/, "")} `;
      continue;
    }
    logical.push((pending + line).trim());
    pending = "";
  }
  const stages: { image: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const line of logical) {
    const match = /^(\S+)\s*(.*)$/s.exec(line)!;
    const keyword = match[1]!.toUpperCase();
    const args = match[2]!;
    if (keyword === "FROM") {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`cannot read FROM ${args}`);
      stages.push({ image: from[1]!, name: from[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${keyword} before the first FROM`);
    stage.instructions.push({ keyword, args });
  }
  return stages;
}

const stages = parseDockerfile(readFileSync(DOCKERFILE, "utf8"));
const [build, runtime] = stages as [Stage, Stage];
const of = (stage: Stage, keyword: string) =>
  stage.instructions.filter((instruction) => instruction.keyword === keyword);

describe("deploy/Dockerfile", () => {
  test("has two stages: a Bun build stage and a distroless runtime", () => {
    expect(stages.map((stage) => stage.image)).toEqual([
      `oven/bun:${packageJson.devDependencies.bun}`,
      "gcr.io/distroless/base-debian12:nonroot",
    ]);
    expect(build.name).toBe("build");
  });

  test("pins every base image to a version tag or digest, never latest", () => {
    for (const { image } of stages) {
      expect(image).toMatch(/(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$/);
      expect(image).not.toMatch(/:latest$/);
    }
  });

  test("builds with the same Bun version the project pins", () => {
    expect(build.image).toBe(`oven/bun:${packageJson.devDependencies.bun}`);
    expect(packageJson.devDependencies["@types/bun"]).toBe(packageJson.devDependencies.bun);
  });

  test("installs from the npm lockfile, frozen, before copying the sources", () => {
    const steps = build.instructions.map((instruction) => `${instruction.keyword} ${instruction.args}`);
    const copyLock = steps.findIndex((step) => /^COPY .*package\.json.*package-lock\.json/.test(step));
    const install = steps.findIndex((step) => /^RUN .*&& bun install --frozen-lockfile$/.test(step));
    const copySources = steps.indexOf("COPY src/ src/");
    expect(copyLock).toBeGreaterThanOrEqual(0);
    expect(install).toBeGreaterThan(copyLock);
    expect(copySources).toBeGreaterThan(install);
  });

  test("runs the package's build script, which exists in package.json", () => {
    expect(of(build, "RUN").some((run) => run.args.startsWith("bun run build"))).toBe(true);
    expect(packageJson.scripts.build).toBeDefined();
  });

  test("copies only what exists, and the build context (the root .dockerignore) keeps every copied path", () => {
    const ignore = readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .map((line) => line.trim());
    expect(ignore).toContain("*");
    for (const copy of of(build, "COPY")) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) {
        expect({ source, exists: existsSync(join(REPO_ROOT, source)) }).toEqual({ source, exists: true });
        expect(ignore).toContain(`!${source}`);
      }
    }
  });

  test("one ignore list for both builders: the root .dockerignore, not shadowed by a Dockerfile-specific one", () => {
    // The classic builder reads only <context>/.dockerignore; BuildKit prefers deploy/Dockerfile.dockerignore if present.
    expect(existsSync(join(REPO_ROOT, ".dockerignore"))).toBe(true);
    expect(existsSync(join(REPO_ROOT, "deploy", "Dockerfile.dockerignore"))).toBe(false);
    const patterns = readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .map((line) => line.trim());
    expect(patterns.filter((line) => line !== "" && !line.startsWith("#"))[0]).toBe("*");
  });

  test("an extra CA bundle build arg reaches bun install through NODE_EXTRA_CA_CERTS, in the build stage only", () => {
    expect(of(build, "ARG").map((arg) => arg.args)).toContain('EXTRA_CA_CERTS=""');
    const install = {
      args: of(build, "RUN")
        .find((run) => run.args.includes("bun install"))!
        .args.replace(/\s+/g, " "),
    };
    expect(install.args).toContain("printf '%s\\n' \"$EXTRA_CA_CERTS\" > /tmp/extra-ca-certs.pem");
    expect(install.args).toContain("export NODE_EXTRA_CA_CERTS=/tmp/extra-ca-certs.pem; fi && bun install");
    expect(runtime.instructions.some((instruction) => instruction.args.includes("EXTRA_CA"))).toBe(false);
    expect(readFileSync(join(REPO_ROOT, "deploy", "README.md"), "utf8")).toContain(
      '--build-arg EXTRA_CA_CERTS="$(cat ',
    );
  });

  test("every documented docker build command passes the git commit, which the build context lacks", () => {
    const documents = ["README.md", "deploy/README.md", "deploy/Dockerfile", "bench/README.md", "test/load/README.md"];
    const docs = Bun.spawnSync(["git", "ls-files", "-z", "docs", "rules"], { cwd: REPO_ROOT, stdout: "pipe" });
    documents.push(
      ...docs.stdout
        .toString()
        .split("\0")
        .filter((path) => path.endsWith(".md")),
    );
    const commands: string[] = [];
    for (const document of documents.filter((path) => existsSync(join(REPO_ROOT, path)))) {
      // Join `\` continuations (also inside `#` comments, as in the Dockerfile's header) into one command line.
      const text = readFileSync(join(REPO_ROOT, document), "utf8").replace(/\\\n#?\s*/g, " ");
      for (const line of text.split("\n"))
        if (/docker (buildx )?build /.test(line)) commands.push(`${document}: ${line.trim()}`);
    }
    expect(commands.length).toBeGreaterThanOrEqual(3);
    for (const command of commands) {
      expect({
        command,
        passesCommit: command.includes("--build-arg PROM_ADAPTER_GIT_COMMIT=$(git rev-parse --short=12 HEAD)"),
      }).toEqual({
        command,
        passesCommit: true,
      });
    }
  });

  test("the runtime stage holds only the compiled binary and runs nothing at build time", () => {
    expect(runtime.instructions.map((instruction) => instruction.keyword).sort()).toEqual([
      "COPY",
      "ENTRYPOINT",
      "EXPOSE",
      "USER",
    ]);
    expect(of(runtime, "COPY")).toEqual([
      { keyword: "COPY", args: "--from=build /src/dist/prom-adapter /usr/local/bin/prom-adapter" },
    ]);
    expect(of(build, "WORKDIR")).toEqual([{ keyword: "WORKDIR", args: "/src" }]);
  });

  test("runs as a numeric non-root user", () => {
    const [user] = of(runtime, "USER");
    const match = /^(\d+)(?::(\d+))?$/.exec(user!.args);
    expect(match).not.toBeNull();
    expect(Number(match![1])).toBeGreaterThan(0);
    // The Deployment's runAsUser is the same user.
    const deployment = parseYaml(readFileSync(join(REPO_ROOT, "deploy", "manifests", "deployment.yaml"), "utf8"));
    expect(deployment.spec.template.spec.securityContext.runAsUser).toBe(Number(match![1]));
  });

  test("the entrypoint is the copied binary in exec form, and the exposed port is the Deployment's", () => {
    const [entrypoint] = of(runtime, "ENTRYPOINT");
    expect(JSON.parse(entrypoint!.args)).toEqual(["/usr/local/bin/prom-adapter"]);
    const deployment = parseYaml(readFileSync(join(REPO_ROOT, "deploy", "manifests", "deployment.yaml"), "utf8"));
    expect(of(runtime, "EXPOSE")).toEqual([
      { keyword: "EXPOSE", args: String(deployment.spec.template.spec.containers[0].ports[0].containerPort) },
    ]);
  });
});

const ldd = Bun.which("ldd");
announceSkip(
  "the compiled binary on distroless base",
  ldd === null ? missingTool("ldd", "not found on PATH (glibc's libc-bin)") : null,
);
describe.skipIf(ldd === null)("the compiled binary on distroless base", () => {
  test("links only glibc libraries, which distroless/base has (so neither static nor cc is right)", () => {
    const dir = mkdtempSync(join(tmpdir(), "prom-adapter-compile-"));
    try {
      const outfile = join(dir, "prom-adapter");
      const compiled = Bun.spawnSync(
        [process.execPath, "build", join(REPO_ROOT, "src", "main.ts"), "--compile", "--outfile", outfile],
        { cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe" },
      );
      expect(compiled.exitCode).toBe(0);
      const linked = Bun.spawnSync([ldd!, outfile], { stdout: "pipe" }).stdout.toString();
      const libraries = [...linked.matchAll(/^\s*(\S+)/gm)].map((match) =>
        match[1]!.replace(/\.so.*$/, "").replace(/^.*\//, ""),
      );
      expect(libraries.length).toBeGreaterThan(0);
      const glibc = new Set([
        "linux-vdso",
        "libc",
        "libm",
        "libpthread",
        "libdl",
        "librt",
        "ld-linux-x86-64",
        "ld-linux-aarch64",
        "linux-gate",
      ]);
      expect(libraries.filter((library) => !glibc.has(library))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
