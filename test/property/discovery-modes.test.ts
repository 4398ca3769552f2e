/**
 * Label-index discovery must build exactly the registry series listing builds. Random data sets (random metric
 * names, random label-name subsets per series, so one name often has several shapes that differ in its resource and
 * namespace labels) and random rules (overrides, templates, seriesFilters, `name.matches`/`as` renames that make
 * several series names collide on one metric, custom and external rules sharing or not sharing a seriesQuery) are
 * backfilled into ONE real Prometheus: each case lives under its own metric-name prefix and its rules select only
 * that prefix. Both modes then list every case through the real HTTP client and must give equal registries.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseRulesText } from "../../src/config/load.ts";
import { listShapes, type ResolvedDiscoveryMode } from "../../src/discovery/discovery-mode.ts";
import { compileRules, type CompiledRules } from "../../src/naming/compile-rules.ts";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../../src/apimachinery/rest-mapper.ts";
import { createPrometheusClient } from "../../src/prometheus/client.ts";
import { createHttpTransport } from "../../src/prometheus/http-transport.ts";
import type { TransferMeter } from "../../src/prometheus/types.ts";
import { buildMetricRegistry, type MetricRegistry } from "../../src/discovery/registry.ts";
import { createRandom } from "../support/go-strings.ts";
import {
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type OpenMetricsSeries,
  type RunningPrometheus,
} from "../support/prometheus.ts";

const CASES = 40;
const SEED = 1717;
const random = createRandom(SEED);
const pick = <T>(items: readonly T[]): T => items[random(items.length)] as T;
const chance = (percent: number) => random(100) < percent;

// Resource labels (namespace, pod, node, service, the template-only kube_apps_deployment), labels no rule maps, and
// rarely an upper-case one that sorts before __name__ (label discovery lists such a query's series instead).
const LABELS = ["namespace", "pod", "node", "service", "kube_apps_deployment", "container", "instance", "zone"];
const STEMS = ["http_requests", "cpu_seconds", "queue", "latency", "errors", "bytes", "jobs", "up"];

interface Case {
  readonly prefix: string;
  readonly series: OpenMetricsSeries[];
  readonly rulesText: string;
}

function randomCase(index: number, sampleTime: number): Case {
  const prefix = `c${index}_`;
  const names = [
    ...new Set(
      Array.from(
        { length: 1 + random(6) },
        () => `${prefix}${pick(STEMS)}${chance(50) ? "_total" : ""}${chance(30) ? `_${random(3)}` : ""}`,
      ),
    ),
  ];
  const upper = chance(10);
  const series: OpenMetricsSeries[] = [];
  for (const name of names) {
    for (let s = 0; s < 1 + random(5); s++) {
      const labels: Record<string, string> = { series: String(s) };
      for (const label of LABELS) if (chance(45)) labels[label] = `v${random(3)}`;
      if (upper && chance(50)) labels.Region = "eu";
      series.push({ name, labels, samples: [[sampleTime, random(100)]] });
    }
  }
  const queries = [
    `{__name__=~"${prefix}.*"}`,
    `{__name__=~"${prefix}.*",namespace!=""}`,
    `{__name__=~"${prefix}.*",pod!=""}`,
    `{__name__=~"^${prefix}(http|cpu|queue).*"}`,
    pick(names),
  ];
  const rule = (external: boolean) => {
    const resources: Record<string, unknown> = {};
    const overrides: Record<string, { resource: string; group?: string }> = {};
    if (chance(60)) overrides.namespace = { resource: "namespace" };
    if (chance(50)) overrides.pod = { resource: "pod" };
    if (chance(25)) overrides.node = { resource: "node" };
    if (chance(20)) overrides.kube_apps_deployment = { group: "apps", resource: "deployment" };
    if (Object.keys(overrides).length > 0) resources.overrides = overrides;
    if (chance(40)) resources.template = pick(["<<.Resource>>", "kube_<<.Group>>_<<.Resource>>"]);
    const mapsNamespaces = overrides.namespace !== undefined || resources.template !== undefined;
    if (external && (chance(40) || !mapsNamespaces)) resources.namespaced = false;
    const filters = [];
    if (chance(30)) filters.push({ is: pick(["_total$", "http", "queue", "_[0-9]$"]) });
    if (chance(30)) filters.push({ isNot: pick(["_total$", "latency", "^c"]) });
    const name = pick([
      {},
      { matches: `^${prefix}(.*)_total$`, as: "${1}_per_second" },
      { matches: `^${prefix}(.*?)(_total)?(_[0-9])?$`, as: "${1}" },
      { matches: `^${prefix}`, as: "collided" },
      { matches: "(http|queue)", as: "" },
    ]);
    return {
      seriesQuery: pick(queries),
      ...(filters.length > 0 ? { seriesFilters: filters } : {}),
      resources,
      name,
      metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
    };
  };
  const rules = Array.from({ length: 1 + random(4) }, () => rule(false));
  const externalRules = Array.from({ length: random(3) }, () => rule(true));
  return { prefix, series, rulesText: JSON.stringify({ rules, externalRules }) };
}

/** Everything a registry serves, in its own order (the order is part of what must be equal). */
function describeRegistry(registry: MetricRegistry): string[] {
  return [
    ...registry
      .customMetrics()
      .map(
        (e) =>
          `custom ${e.resource.group}/${e.resource.resource} ns=${e.namespaced} ${e.metric} <- ${e.seriesName} (${e.rule.id})`,
      ),
    ...registry
      .externalMetrics()
      .map((e) => `external ${e.metric} ns=${e.namespaced} <- ${e.seriesName} (${e.rule.id})`),
  ];
}

const skip = prometheusSkipReason();
const mapper = createTableRestMapper(BUILTIN_RESOURCES);
const sampleTime = Math.floor(Date.now() / 1000) - 30;
const cases = Array.from({ length: CASES }, (_, index) => randomCase(index, sampleTime));
let prometheus: RunningPrometheus;
let client: ReturnType<typeof createPrometheusClient>;

async function registryIn(
  mode: ResolvedDiscoveryMode,
  compiled: CompiledRules,
  meter: TransferMeter,
): Promise<MetricRegistry> {
  const listing = await listShapes(client, compiled, mode, sampleTime - 3600, { meter });
  const shapesFor = (rule: CompiledRules["custom"][number]) => listing.shapesByQuery.get(rule.namer.seriesQuery) ?? [];
  return buildMetricRegistry(
    compiled.custom.map((rule) => ({ rule, series: shapesFor(rule) })),
    compiled.external.map((rule) => ({ rule, series: shapesFor(rule) })),
  ).registry;
}

describe.skipIf(skip !== null)("label-index discovery against a real Prometheus", () => {
  beforeAll(async () => {
    prometheus = await startPrometheus({
      openMetrics: openMetricsText(cases.flatMap((c) => c.series)),
      lookbackDelta: "1h",
    });
    client = createPrometheusClient(createHttpTransport({ baseUrl: prometheus.url }));
  });
  afterAll(async () => {
    await prometheus?.stop();
  });

  test(`builds the registry series listing builds, for ${CASES} random data sets and rule sets (seed ${SEED})`, async () => {
    let entries = 0;
    let mixedNames = 0;
    const seriesMeter = { calls: 0, bytes: 0 };
    const labelsMeter = { calls: 0, bytes: 0 };
    for (const { prefix, series, rulesText } of cases) {
      const compiled = compileRules(parseRulesText(rulesText, `${prefix}rules.json`), () => mapper);
      const bySeries = describeRegistry(await registryIn("series", compiled, seriesMeter));
      const byLabels = describeRegistry(await registryIn("labels", compiled, labelsMeter));
      expect({ prefix, rules: rulesText, registry: byLabels }).toEqual({
        prefix,
        rules: rulesText,
        registry: bySeries,
      });
      entries += bySeries.length;
      const shapes = new Map<string, Set<string>>();
      for (const { name, labels } of series)
        shapes.set(name, (shapes.get(name) ?? new Set()).add(Object.keys(labels).sort().join(",")));
      mixedNames += [...shapes.values()].filter((set) => set.size > 1).length;
    }
    // The comparison means something only if the cases register plenty and names have several shapes.
    expect(entries).toBeGreaterThan(CASES * 2);
    expect(mixedNames).toBeGreaterThan(CASES);
    expect(labelsMeter.calls).toBeGreaterThan(0);
  }, 120_000);
});
