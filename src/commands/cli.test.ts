import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OptionsError } from "../options.ts";
import { UsageError } from "./environment.ts";
import { isSubcommand, parseSubcommandArgs, runSubcommand } from "./cli.ts";

let dir: string;
let good: string;
let bad: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "subcommand-test-"));
  good = join(dir, "good.yaml");
  bad = join(dir, "bad.yaml");
  writeFileSync(
    good,
    "rules:\n- seriesQuery: x\n  resources: {template: <<.Resource>>}\n  metricsQuery: '<<.Series>>'\n",
  );
  writeFileSync(bad, "rules:\n- seriesQuery: x\n  metricQuery: '<<.Series>>'\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runSubcommand(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
  });
  return { code, stdout, stderr };
}

/** A 127.0.0.1 port nothing listens on (bound, then closed). */
function closedPort(): number {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = server.port as number;
  server.stop(true);
  return port;
}

describe("isSubcommand", () => {
  test.each([
    ["check", true],
    ["explain", true],
    ["--config", false],
    [undefined, false],
  ])("%p -> %p", (word, expected) => {
    expect(isSubcommand(word)).toBe(expected);
  });
});

describe("parseSubcommandArgs", () => {
  test("separates the server's flags (both spellings, aliases), --output and positionals", () => {
    const args = parseSubcommandArgs([
      "explain",
      "--config",
      "rules.yaml",
      "--prometheus-url=http://prom:9090",
      "--standalone",
      "-o",
      "json",
      "--lister-kubeconfig",
      "kc",
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/x",
    ]);
    expect(args.command).toBe("explain");
    expect(args.output).toBe("json");
    expect(args.positionals).toEqual(["/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/x"]);
    expect([...args.given].sort()).toEqual(["config", "kubeconfig", "prometheus-url", "standalone"]);
    expect(args.options).toMatchObject({
      configFile: "rules.yaml",
      prometheusUrl: "http://prom:9090",
      standalone: true,
      kubernetes: { kubeconfig: "kc" },
    });
  });

  test("takes everything after -- as positionals and defaults to text output", () => {
    const args = parseSubcommandArgs(["explain", "--", "--not-a-flag"]);
    expect(args.positionals).toEqual(["--not-a-flag"]);
    expect(args.output).toBe("text");
    expect(args.given.size).toBe(0);
  });

  test.each([
    ["an unknown flag", ["check", "--nope"], OptionsError, "unknown flag: --nope"],
    ["a bad --output", ["check", "--output=yaml"], UsageError, '--output must be text or json, got "yaml"'],
    ["--output without a value", ["check", "--output"], UsageError, "--output needs a value (text or json)"],
    ["a bad server flag value", ["check", "--metrics-max-age", "soon"], OptionsError, "--metrics-max-age: "],
  ])("refuses %s", (_name, argv, type, message) => {
    expect(() => parseSubcommandArgs(argv)).toThrow(type);
    expect(() => parseSubcommandArgs(argv)).toThrow(message);
  });
});

describe("runSubcommand", () => {
  test("--help prints the command's usage with the exit codes and exits 0", async () => {
    const { code, stdout } = await run(["explain", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toStartWith("Usage: prom-adapter explain ");
    expect(stdout).toContain("Exit codes: 0 ok; 1 problems found");
  });

  test.each([
    [
      "an unknown flag",
      ["check", "--nope"],
      "prom-adapter check: unknown flag: --nope\nRun prom-adapter check --help for usage.\n",
    ],
    ["check with an argument", ["check", "extra"], 'prom-adapter check: check takes no arguments, got "extra"\n'],
    ["explain without a path", ["explain", "--standalone"], "prom-adapter explain: explain takes one API path, e.g.\n"],
    [
      "explain with a path outside the metrics APIs",
      ["explain", "--standalone", "/apis/apps/v1/deployments"],
      "prom-adapter explain: explain needs the path of a custom or external metric, or of metrics.k8s.io nodes or pods",
    ],
  ])("exits 2 for %s, naming the problem on stderr", async (_name, argv, message) => {
    const { code, stdout, stderr } = await run(argv);
    expect(code).toBe(2);
    expect(stderr).toStartWith(message);
    expect(stdout).toBe("");
  });

  test("check of a good file exits 0; of a bad one exits 1 with the finding on stdout", async () => {
    expect((await run(["check", "--config", good])).code).toBe(0);
    const { code, stdout } = await run(["check", "--config", bad]);
    expect(code).toBe(1);
    expect(stdout).toContain(
      `${bad}:3:3: error: rules[0]: unknown field "metricQuery"\n  hint: did you mean "metricsQuery"?`,
    );
  });

  test("check --output json writes one JSON document", async () => {
    const { code, stdout } = await run(["check", "--config", bad, "--output", "json"]);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({
      valid: false,
      exitCode: 1,
      findings: [
        { path: "rules[0]", message: 'unknown field "metricQuery"' },
        { path: "rules[0].metricsQuery", message: "required field is missing or empty" },
      ],
    });
  });

  test("an unreachable Prometheus exits 3, with a JSON error document under --output json", async () => {
    const url = `http://127.0.0.1:${closedPort()}`;
    const { code, stdout, stderr } = await run([
      "check",
      "--config",
      good,
      "--prometheus-url",
      url,
      "--output",
      "json",
    ]);
    expect(code).toBe(3);
    expect(stderr).toStartWith(`prom-adapter check: cannot list series from ${url}: network: `);
    expect(JSON.parse(stdout)).toMatchObject({ exitCode: 3 });
  });

  test("an unloadable kubeconfig exits 3", async () => {
    const { code, stderr } = await run(["check", "--config", good, "--kubeconfig", join(dir, "absent-kubeconfig")]);
    expect(code).toBe(3);
    expect(stderr).toStartWith(`prom-adapter check: cannot load the kubeconfig ${join(dir, "absent-kubeconfig")}: `);
  });
});
