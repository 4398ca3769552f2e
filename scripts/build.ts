/**
 * `npm run build`: compiles prom-adapter into one self-contained executable, `dist/prom-adapter`, with Bun.
 * rules/default.yaml and package.json's version are embedded through their imports; the build commit and date are
 * injected as constants. The binary never reads a stray .env or bunfig.toml from the directory it runs in.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const outfile = process.argv[2] ?? join(root, "dist", "prom-adapter");
mkdirSync(join(outfile, ".."), { recursive: true });

// The commit comes from PROM_ADAPTER_GIT_COMMIT (set by the image build, which has no .git), else from git if present.
const gitCommit = () =>
  Bun.which("git")
    ? Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: root, stderr: "ignore" })
        .stdout.toString()
        .trim()
    : "";
const commit = process.env.PROM_ADAPTER_GIT_COMMIT || gitCommit() || "unknown";
const buildDate = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(".000Z", "Z");

const result = await Bun.build({
  entrypoints: [join(root, "src", "main.ts")],
  compile: { outfile, autoloadDotenv: false, autoloadBunfig: false },
  minify: true,
  sourcemap: "linked",
  bytecode: true,
  define: {
    PROM_ADAPTER_GIT_COMMIT: JSON.stringify(commit),
    PROM_ADAPTER_BUILD_DATE: JSON.stringify(buildDate),
  },
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(`built ${outfile} (${commit}, ${buildDate})`);
