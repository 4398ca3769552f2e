/**
 * Runs the naming.json and query-building.json vectors (test/vectors/) against the real modules. (quantity.json,
 * escaping.json, selectors.json and the template cases run beside their modules in src/.)
 */
import { describe, expect, test } from "bun:test";
import { stringify } from "yaml";
import { parseRulesText } from "../src/config/load.ts";
import { compileRules } from "../src/naming/compile-rules.ts";
import type { Requirement } from "../src/apimachinery/labels/selector.ts";
import { createMetricNamer } from "../src/naming/metric-namer.ts";
import { renderExternalQuery, renderObjectQuery, QUERY_TEMPLATE_FIELDS } from "../src/naming/query-builder.ts";
import { compileTemplate } from "../src/golang/template/template.ts";
import { compileSeriesFilter } from "../src/naming/regex-filter.ts";
import { createResourceConverter } from "../src/naming/resource-converter.ts";
import {
  BUILTIN_RESOURCES,
  createTableRestMapper,
  type GroupResource,
  type ResourceInfo,
} from "../src/apimachinery/rest-mapper.ts";
import { renderCustomMetricQuery } from "../src/providers/custom-metrics-provider.ts";
import { assembleNodeUsage, assemblePodUsage, type UsageSample } from "../src/providers/resource-metrics-assembly.ts";
import { buildMetricRegistry } from "../src/discovery/registry.ts";
import { collapseShapes } from "../src/discovery/series-lister.ts";
import { parsePrometheusDuration } from "../src/util/duration.ts";
import { vectorCases } from "./support/vectors.ts";

type AnyInput = Record<string, any>;
const mapperOf = (entries: ResourceInfo[] | undefined) => {
  const mapper = createTableRestMapper(entries ?? BUILTIN_RESOURCES);
  return () => mapper;
};
const outcome = (run: () => unknown): unknown => {
  try {
    return run();
  } catch (error) {
    return { error: (error as Error).message };
  }
};
const names = (c: { name: string }) => c.name;

describe("naming.json", () => {
  const metricName = vectorCases<AnyInput>("naming.json", "metricName");
  test.each(metricName.map((c) => [names(c), c] as const))("metricName: %s", (_, c) => {
    const got = outcome(() =>
      createMetricNamer({
        seriesQuery: c.input.seriesQuery,
        seriesFilters: [],
        name: { matches: c.input.matches, as: c.input.as },
      }).metricNameForSeries(c.input.seriesName),
    );
    expect(got).toEqual(c.expected);
  });

  const seriesFilter = vectorCases<AnyInput>("naming.json", "seriesFilter");
  test.each(seriesFilter.map((c) => [names(c), c] as const))("seriesFilter: %s", (_, c) => {
    expect(outcome(() => compileSeriesFilter(c.input.filter)(c.input.seriesName))).toEqual(c.expected);
  });

  const filterSeries = vectorCases<AnyInput>("naming.json", "filterSeries");
  test.each(filterSeries.map((c) => [names(c), c] as const))("filterSeries: %s", (_, c) => {
    const namer = createMetricNamer({
      seriesQuery: "{}",
      seriesFilters: c.input.seriesFilters,
      name: { matches: c.input.nameMatches, as: "" },
    });
    expect(c.input.seriesNames.filter((n: string) => namer.keepsSeries(n))).toEqual(c.expected);
  });

  const converterFor = (input: AnyInput) =>
    createResourceConverter(
      { template: input.template ?? "", overrides: overridesOf(input.overrides), namespaced: undefined },
      mapperOf(input.restMapper),
    );

  const labelForResource = vectorCases<AnyInput>("naming.json", "labelForResource");
  test.each(labelForResource.map((c) => [names(c), c] as const))("labelForResource: %s", (_, c) => {
    const got = outcome(() => converterFor(c.input).labelForResource(c.input.resource));
    if (c.note?.includes("prefix"))
      expect((got as { error: string }).error).toStartWith((c.expected as { error: string }).error);
    else expect(got).toEqual(c.expected);
  });

  const resourceForLabel = vectorCases<AnyInput>("naming.json", "resourceForLabel");
  test.each(resourceForLabel.map((c) => [names(c), c] as const))("resourceForLabel: %s", (_, c) => {
    const info = converterFor(c.input).resourceForLabel(c.input.label);
    expect(info === null ? null : { group: info.group, resource: info.resource }).toEqual(
      c.expected as GroupResource | null,
    );
  });

  const resourcesForSeries = vectorCases<AnyInput>("naming.json", "resourcesForSeries");
  test.each(resourcesForSeries.map((c) => [names(c), c] as const))("resourcesForSeries: %s", (_, c) => {
    const found = converterFor(c.input)
      .resourcesForLabels(c.input.labels)
      .map(({ group, resource, namespaced }) => ({ group, resource, namespaced }))
      .sort((a, b) => a.group.localeCompare(b.group) || a.resource.localeCompare(b.resource));
    expect(found).toEqual(c.expected as never);
  });

  const normalize = vectorCases<AnyInput>("naming.json", "normalize");
  test.each(normalize.map((c) => [names(c), c] as const))("normalize: %s", (_, c) => {
    const got = outcome(() => {
      const { group, resource } = mapperOf(c.input.restMapper)().resolve(c.input.resource);
      return { group, resource };
    });
    const expected = c.expected as { error?: string };
    if (expected.error !== undefined) expect((got as { error: string }).error).toContain(expected.error);
    else expect(got).toEqual(c.expected);
  });

  test("every case of naming.json is run", () => {
    const kinds = [
      "metricName",
      "seriesFilter",
      "filterSeries",
      "labelForResource",
      "resourceForLabel",
      "resourcesForSeries",
      "normalize",
    ];
    expect(vectorCases("naming.json").every((c) => kinds.includes(c.input.kind))).toBe(true);
  });
});

describe("query-building.json", () => {
  const staticLabels = (resourceLabels: Record<string, string>) => (resource: string) => {
    const label = resourceLabels[resource];
    if (label === undefined) throw new Error(`no label for ${resource}`);
    return label;
  };

  const build = vectorCases<AnyInput>("query-building.json", "build");
  test.each(build.map((c) => [names(c), c] as const))("build: %s", (_, c) => {
    const { input } = c;
    const labelOf = staticLabels(input.resourceLabels);
    const got = outcome(() =>
      renderObjectQuery(compileTemplate(input.template, QUERY_TEMPLATE_FIELDS), {
        series: input.series,
        requirements: input.metricRequirements as Requirement[],
        namespace: input.namespace === "" ? undefined : { label: labelOf("namespaces"), value: input.namespace },
        resourceLabel: labelOf(input.resource.resource),
        names: input.names,
        extraGroupBy: input.extraGroupBy,
      }),
    );
    expect(got).toEqual(c.expected);
  });

  const buildExternal = vectorCases<AnyInput>("query-building.json", "buildExternal");
  test.each(buildExternal.map((c) => [names(c), c] as const))("buildExternal: %s", (_, c) => {
    const { input } = c;
    const got = outcome(() =>
      renderExternalQuery(compileTemplate(input.template, QUERY_TEMPLATE_FIELDS), {
        series: input.series,
        requirements: input.metricRequirements as Requirement[],
        namespace:
          input.namespaced && input.namespace !== ""
            ? { label: staticLabels(input.resourceLabels)("namespaces"), value: input.namespace }
            : undefined,
        groupBy: input.groupBy,
        groupBySlice: input.groupBySlice,
      }),
    );
    expect(got).toEqual(c.expected);
  });

  /** Runs vector rules through the real loader (as YAML) and compiler, then discovery over the given series. */
  function registryFor(input: AnyInput) {
    const yaml = stringify({ rules: input.rules.map(ruleForYaml) });
    const mapper = mapperOf(input.restMapper);
    const compiled = compileRules(parseRulesText(yaml, "vector.yaml"), mapper);
    const seriesFor = (index: number, seriesQuery: string) => {
      const series: { name: string; labels: Record<string, string> }[] =
        input.seriesPerRule?.[index] ?? input.seriesByQuery?.[seriesQuery] ?? [];
      return collapseShapes(series.map((s) => ({ __name__: s.name, ...s.labels })));
    };
    const { registry } = buildMetricRegistry(
      compiled.custom.map((rule, index) => ({ rule, series: seriesFor(index, rule.namer.seriesQuery) })),
      [],
    );
    return { registry, mapper, compiled };
  }

  const registryQuery = vectorCases<AnyInput>("query-building.json", "registryQuery");
  test.each(registryQuery.map((c) => [names(c), c] as const))("registryQuery: %s", (_, c) => {
    const { registry, mapper } = registryFor(c.input);
    const request = c.input.request;
    const resource = mapper().resolve(request.resource);
    const entry = registry.customMetric(resource, request.namespaced, request.metric);
    const got =
      entry === undefined
        ? null
        : renderCustomMetricQuery(entry, {
            namespace: request.namespace === "" ? undefined : request.namespace,
            names: request.names,
            requirements: request.metricRequirements,
          }).query;
    expect(got as string | null).toEqual(c.expected as string | null);
  });

  for (const kind of ["registryList", "discovery"]) {
    const cases = vectorCases<AnyInput>("query-building.json", kind);
    test.each(cases.map((c) => [names(c), c] as const))(`${kind}: %s`, (_, c) => {
      const { registry } = registryFor(c.input);
      const listed = registry.customMetrics().map((e) => ({
        group: e.resource.group,
        resource: e.resource.resource,
        namespaced: e.namespaced,
        metric: e.metric,
      }));
      expect(listed).toEqual(c.expected as never);
    });
  }

  const resourceQuery = vectorCases<AnyInput>("query-building.json", "resourceQuery");
  test.each(resourceQuery.map((c) => [names(c), c] as const))("resourceQuery: %s", (_, c) => {
    const { input } = c;
    const converter = createResourceConverter(
      { template: "", overrides: overridesOf(input.overrides), namespaced: undefined },
      mapperOf(undefined),
    );
    const got = renderObjectQuery(compileTemplate(input.template, QUERY_TEMPLATE_FIELDS), {
      series: "",
      requirements: [],
      namespace:
        input.namespace === ""
          ? undefined
          : { label: converter.labelForResource({ group: "", resource: "namespaces" }), value: input.namespace },
      resourceLabel: converter.labelForResource(input.resource),
      names: input.names,
      extraGroupBy: input.extraGroupBy,
    });
    expect(got as string).toBe(c.expected as string);
  });

  const samples = (list: { labels: Record<string, string>; value: string; timestampMs: number }[]): UsageSample[] =>
    list;

  const podMetrics = vectorCases<AnyInput>("query-building.json", "podMetrics");
  test.each(podMetrics.map((c) => [names(c), c] as const))("podMetrics: %s", (_, c) => {
    const { input } = c;
    const byNamespace = (record: Record<string, never[]>) =>
      new Map(Object.entries(record).map(([ns, list]) => [ns, samples(list)]));
    const got = assemblePodUsage({
      pods: input.pods,
      cpuByNamespace: byNamespace(input.cpuByNamespace),
      memoryByNamespace: byNamespace(input.memoryByNamespace),
      podLabel: input.podLabel,
      containerLabel: input.containerLabel,
      window: parsePrometheusDuration(input.window),
    });
    expect(got).toEqual(c.expected as never);
  });

  const nodeMetrics = vectorCases<AnyInput>("query-building.json", "nodeMetrics");
  test.each(nodeMetrics.map((c) => [names(c), c] as const))("nodeMetrics: %s", (_, c) => {
    const { input } = c;
    const got = assembleNodeUsage({
      nodes: input.nodes,
      cpu: samples(input.cpu),
      memory: samples(input.memory),
      nodeLabel: input.nodeLabel,
      window: parsePrometheusDuration(input.window),
    });
    expect(got).toEqual(c.expected as never);
  });

  test("every kind of query-building.json is run (template cases run in src/naming)", () => {
    const kinds = [
      "build",
      "buildExternal",
      "template",
      "registryQuery",
      "registryList",
      "discovery",
      "resourceQuery",
      "podMetrics",
      "nodeMetrics",
    ];
    expect(vectorCases("query-building.json").filter((c) => !kinds.includes(c.input.kind))).toEqual([]);
  });
});

function overridesOf(overrides: Record<string, { group?: string; resource: string }> | undefined) {
  return Object.fromEntries(
    Object.entries(overrides ?? {}).map(([label, ref]) => [label, { group: ref.group ?? "", resource: ref.resource }]),
  );
}

/** Vector rules spell out empty defaults; drop them so the YAML reads like a user's file. */
function ruleForYaml(rule: AnyInput): AnyInput {
  const out: AnyInput = { seriesQuery: rule.seriesQuery, resources: rule.resources, metricsQuery: rule.metricsQuery };
  if (rule.seriesFilters?.length) out.seriesFilters = rule.seriesFilters;
  if (rule.name && (rule.name.matches || rule.name.as)) out.name = rule.name;
  return out;
}
