/**
 * Rules text through the adapter's own steps, for unit tests over the fake Prometheus (fake-prometheus.ts): strict
 * parse, compileRules with the built-in REST mapper, one discovery pass (listSeriesShapes), buildMetricRegistry.
 * So tests use compiled rules and a registry exactly as the server builds them, never hand-built rule objects.
 */
import { parseRulesText } from "../../src/config/load.ts";
import { listSeriesShapes, type SeriesSource } from "../../src/discovery/series-lister.ts";
import { buildMetricRegistry, type MetricRegistry } from "../../src/discovery/registry.ts";
import { BUILTIN_RESOURCES, createTableRestMapper, type RestMapper } from "../../src/apimachinery/rest-mapper.ts";
import { compileRules, type CompiledDiscoveryRule, type CompiledRules } from "../../src/naming/compile-rules.ts";

export interface DiscoveredRules {
  readonly rules: CompiledRules;
  /** What discovery registered from the series `prometheus` listed. */
  readonly registry: MetricRegistry;
  /** The built-in (standalone) REST mapper the rules were compiled with. */
  readonly mapper: RestMapper;
}

/** Compiles `rulesText` (reported as `rules.yaml`) and runs one discovery pass against `prometheus`. */
export async function discoverRules(
  rulesText: string,
  prometheus: SeriesSource,
  startSeconds: number,
): Promise<DiscoveredRules> {
  const mapper = createTableRestMapper(BUILTIN_RESOURCES);
  const rules = compileRules(parseRulesText(rulesText, "rules.yaml"), () => mapper);
  const listing = await listSeriesShapes(prometheus, rules.seriesQueries, startSeconds);
  const seriesOf = (rule: CompiledDiscoveryRule) => ({
    rule,
    series: listing.shapesByQuery.get(rule.namer.seriesQuery) ?? [],
  });
  const { registry } = buildMetricRegistry(rules.custom.map(seriesOf), rules.external.map(seriesOf));
  return { rules, registry, mapper };
}
