/**
 * Every adapter rules file shipped under rules/ (the default set and the commented examples) loads and compiles with the
 * real loader and compiler, against the built-in REST mapper, without warnings; and the examples name the series
 * they are written for the way their comments say.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseRulesText } from "../../src/config/load.ts";
import { compileRules, type CompiledRules } from "../../src/naming/compile-rules.ts";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../../src/apimachinery/rest-mapper.ts";

const REPO_ROOT = join(import.meta.dir, "..", "..");
const RULES_DIR = join(REPO_ROOT, "rules");
/** Files under rules/ that are not adapter rules: alerts.yaml holds Prometheus alerting rules about prom-adapter. */
const NOT_ADAPTER_RULES = new Set(["alerts.yaml"]);
const FILES = [...new Bun.Glob("**/*.yaml").scanSync({ cwd: RULES_DIR })]
  .filter((file) => !NOT_ADAPTER_RULES.has(file))
  .sort();

function compile(file: string): CompiledRules {
  const path = join(RULES_DIR, file);
  return compileRules(parseRulesText(readFileSync(path, "utf8"), relative(REPO_ROOT, path)), () =>
    createTableRestMapper(BUILTIN_RESOURCES),
  );
}

/** The API names the custom (or external) rules of `file` give `series`, one per rule that keeps it. */
function namesFor(file: string, series: string, api: "custom" | "external" = "custom"): string[] {
  return compile(file)
    [api].filter((rule) => rule.namer.keepsSeries(series))
    .map((rule) => rule.namer.metricNameForSeries(series));
}

describe("the rules library", () => {
  test("holds the default set and the documented examples", () => {
    expect(FILES).toEqual(
      expect.arrayContaining([
        "default.yaml",
        "examples/cadvisor.yaml",
        "examples/external-queues.yaml",
        "examples/podinfo.yaml",
        "examples/resource-metrics.yaml",
        "examples/team-backends.yaml",
        "examples/thanos.yaml",
      ]),
    );
  });

  test.each(FILES)("%s compiles without warnings", (file) => {
    expect(compile(file).warnings).toEqual([]);
  });

  test.each([
    { file: "default.yaml", series: "http_requests_total", expected: ["http_requests"] },
    { file: "examples/podinfo.yaml", series: "http_requests_total", expected: ["http_requests"] },
    { file: "examples/thanos.yaml", series: "http_requests_total", expected: ["http_requests"] },
    { file: "examples/cadvisor.yaml", series: "container_cpu_usage_seconds_total", expected: ["cpu_usage"] },
    {
      file: "examples/cadvisor.yaml",
      series: "container_memory_working_set_bytes",
      expected: ["memory_working_set_bytes"],
    },
    {
      file: "examples/cadvisor.yaml",
      series: "container_network_receive_bytes_total",
      expected: ["network_receive_bytes_per_second"],
    },
    {
      file: "examples/cadvisor.yaml",
      series: "container_network_transmit_bytes_total",
      expected: ["network_transmit_bytes_per_second"],
    },
  ])("$file names $series as $expected", ({ file, series, expected }) => {
    expect(namesFor(file, series)).toEqual([...expected]);
  });

  test("external-queues.yaml has a namespaced RabbitMQ rule and a cluster-wide Kafka rule", () => {
    const compiled = compile("examples/external-queues.yaml");
    expect(compiled.custom).toEqual([]);
    expect(compiled.external.map((rule) => rule.namespaced)).toEqual([true, false]);
    expect(namesFor("examples/external-queues.yaml", "rabbitmq_queue_messages_ready", "external")).toEqual([
      "rabbitmq_queue_messages_ready",
    ]);
    expect(namesFor("examples/external-queues.yaml", "kafka_consumergroup_lag", "external")).toEqual([
      "kafka_consumergroup_lag",
    ]);
  });

  test("resource-metrics.yaml maps pods and namespaces by name and nodes through the `node` label, with a 1m window", () => {
    const { resource } = compile("examples/resource-metrics.yaml");
    const labels = (rule: NonNullable<CompiledRules["resource"]>["cpu"]) => ({
      pod: rule.podLabel,
      namespace: rule.namespaceLabel,
      node: rule.nodeLabel,
      container: rule.containerLabel,
    });
    expect(resource).not.toBeNull();
    expect(labels(resource!.cpu)).toEqual({ pod: "pod", namespace: "namespace", node: "node", container: "container" });
    expect(labels(resource!.memory)).toEqual({
      pod: "pod",
      namespace: "namespace",
      node: "node",
      container: "container",
    });
    expect(resource!.window).toBe(60_000);
  });

  test("team-backends.yaml routes each team namespace to its own Prometheus and pins queues to the shared Thanos", () => {
    const compiled = compile("examples/team-backends.yaml");
    expect(compiled.backends.map((backend) => backend.config.name)).toEqual(["team-a", "team-b"]);
    const serves = (name: string, namespace: string) =>
      compiled.backends.find((backend) => backend.config.name === name)?.servesNamespace?.(namespace);
    expect([serves("team-a", "team-a-staging"), serves("team-b", "team-b-ci"), serves("team-b", "team-bx")]).toEqual([
      true,
      true,
      false,
    ]);
    expect(compiled.custom.map((rule) => rule.backend)).toEqual([undefined]);
    expect(compiled.external.map((rule) => rule.backend)).toEqual(["default"]);
  });
});
