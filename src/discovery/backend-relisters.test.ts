import { describe, expect, test } from "bun:test";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../apimachinery/rest-mapper.ts";
import { parseRulesText } from "../config/load.ts";
import { compileRules, type CompiledRules } from "../naming/compile-rules.ts";
import { createMemoryLogger } from "../observability/logger.ts";
import type { SeriesLabels } from "../prometheus/types.ts";
import { createManualClock } from "../util/clock.ts";
import { combineRelisters, rulesForBackend, type BackendRelister } from "./backend-relisters.ts";
import { createRelister } from "./relister.ts";

const RULES = `backends:
- {name: team-a, url: 'http://a', namespaces: [team-a]}
rules:
- seriesQuery: '{__name__=~"queue_.*",namespace!=""}'
  resources: {template: <<.Resource>>}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
- seriesQuery: '{__name__="pinned",namespace!=""}'
  resources: {template: <<.Resource>>}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
  prometheus: {backend: team-a}
`;
const mapper = createTableRestMapper(BUILTIN_RESOURCES);
const compiled = compileRules(parseRulesText(RULES, "rules.yaml"), () => mapper);

/** A backend whose series answer is set by the test (null: the call fails), discovering with `rules`' part. */
function backend(name: string, initial: SeriesLabels[] | null, rules: CompiledRules = compiled) {
  let answer = initial;
  let attempted = false;
  let failed = false;
  const relister = createRelister({
    source: {
      series: async (matches: readonly string[]) => {
        if (answer === null) throw new Error("connection refused");
        // A seriesQuery gets the series whose name starts like the name it mentions (queue_.* or pinned).
        return answer.filter((series) => matches.some((match) => match.includes(`${series.__name__}`.slice(0, 5))));
      },
    },
    rules: () => rulesForBackend(rules, name),
    mode: "series",
    clock: createManualClock(1_714_564_800_000),
    logger: createMemoryLogger(),
    onRun: ({ ok }) => {
      attempted = true;
      failed = !ok;
    },
  });
  const part: BackendRelister = {
    name,
    relister,
    attempted: () => attempted,
    lastError: () => (failed ? "failed" : null),
    discovers: () => rulesForBackend(rules, name).seriesQueries.length > 0,
  };
  return { part, set: (next: SeriesLabels[] | null) => (answer = next) };
}
const series = (name: string, namespace: string): SeriesLabels => ({ __name__: name, namespace, pod: "p" });
const listed = (relister: ReturnType<typeof combineRelisters>) =>
  relister
    .current()
    .registry.customMetrics()
    .filter((entry) => entry.resource.resource === "pods")
    .map((entry) => `${entry.metric}@${entry.backends?.join("+")}`);

describe("discovery over several backends", () => {
  test("each backend discovers with the rules naming it or naming none", () => {
    expect(rulesForBackend(compiled, "default").custom.map((rule) => rule.id)).toEqual(["rules[0]"]);
    expect(rulesForBackend(compiled, "team-a").custom.map((rule) => rule.id)).toEqual(["rules[0]", "rules[1]"]);
    expect(rulesForBackend(compiled, "team-a").seriesQueries).toHaveLength(2);
  });

  test("registries merge in declaration order, each metric listing the backends that registered it", async () => {
    const shared = backend("default", [series("queue_depth", "x")]);
    const teamA = backend("team-a", [series("queue_depth", "team-a"), series("pinned", "team-a")]);
    const relister = combineRelisters([shared.part, teamA.part]);
    expect(relister.ready()).toBe(false);
    expect(await relister.runOnce()).toBe(true);
    expect(listed(relister)).toEqual(["pinned@team-a", "queue_depth@default+team-a"]);
    expect(relister.ready()).toBe(true);
  });

  test("a failing backend keeps its previous part; ready needs every first run attempted and one success", async () => {
    const shared = backend("default", null);
    const teamA = backend("team-a", [series("pinned", "team-a")]);
    const relister = combineRelisters([shared.part, teamA.part]);
    await shared.part.relister.runOnce();
    // team-a's first run has not been attempted yet: not ready, though nothing succeeded either way.
    expect(relister.ready()).toBe(false);
    expect(await relister.runOnce()).toBe(false);
    expect(relister.ready()).toBe(true);
    expect(relister.backends()).toEqual([
      { name: "default", attempted: true, ready: false, lastError: "failed" },
      { name: "team-a", attempted: true, ready: true, lastError: null },
    ]);
    teamA.set(null);
    expect(await relister.runOnce()).toBe(false);
    expect(listed(relister)).toEqual(["pinned@team-a"]);
  });

  test("a lone default backend is served as its relister's own snapshot, without backends on entries", async () => {
    const shared = backend("default", [series("queue_depth", "x")]);
    const relister = combineRelisters([shared.part]);
    await relister.runOnce();
    expect(relister.current()).toBe(shared.part.relister.current());
    expect(relister.current().registry.customMetrics()[0]?.backends).toBeUndefined();
  });

  test("replace stops removed loops and serves the new set", async () => {
    const shared = backend("default", [series("queue_depth", "x")]);
    const teamA = backend("team-a", [series("pinned", "team-a")]);
    const relister = combineRelisters([shared.part, teamA.part]);
    await relister.runOnce();
    relister.replace([shared.part]);
    expect(listed(relister)).toEqual(["queue_depth@undefined"]);
    relister.replace([shared.part, teamA.part]);
    expect(listed(relister)).toEqual(["pinned@team-a", "queue_depth@default"]);
  });
});

describe("readiness after the start", () => {
  test("a backend added later does not make a ready adapter unready while its first run is under way", async () => {
    const shared = backend("default", [series("queue_depth", "x")]);
    const teamA = backend("team-a", [series("pinned", "team-a")]);
    const relister = combineRelisters([shared.part, teamA.part]);
    await relister.runOnce();
    expect(relister.ready()).toBe(true);
    const teamB = backend("team-b", [series("queue_depth", "team-b")]);
    relister.replace([shared.part, teamA.part, teamB.part]);
    expect(teamB.part.attempted()).toBe(false);
    expect(relister.ready()).toBe(true);
  });

  // Only team-a has rules (a rule naming it): the default backend's runs discover nothing and prove nothing.
  const ONLY_PINNED = `backends:
- {name: team-a, url: 'http://a', namespaces: [team-a]}
rules:
- seriesQuery: '{__name__="pinned",namespace!=""}'
  resources: {template: <<.Resource>>}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
  prometheus: {backend: team-a}
`;
  const onlyPinned = compileRules(parseRulesText(ONLY_PINNED, "rules.yaml"), () => mapper);

  test("not ready when every backend with series queries failed its first discovery", async () => {
    const relister = combineRelisters([
      backend("default", null, onlyPinned).part,
      backend("team-a", null, onlyPinned).part,
    ]);
    expect({ ok: await relister.runOnce(), ready: relister.ready() }).toEqual({ ok: false, ready: false });
  });

  test("ready once the backend with series queries succeeds, though one without any failed", async () => {
    const teamA = backend("team-a", null, onlyPinned);
    const relister = combineRelisters([backend("default", null, onlyPinned).part, teamA.part]);
    await relister.runOnce();
    teamA.set([series("pinned", "team-a")]);
    await relister.runOnce();
    expect(relister.ready()).toBe(true);
  });

  test("with no series query anywhere, ready at once like a lone relister", () => {
    const resourceOnly = (kind: string) =>
      `  ${kind}:\n    containerQuery: x\n    nodeQuery: y\n    containerLabel: container\n` +
      `    resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}, node: {resource: node}}}\n`;
    const text = `backends:\n- {name: team-a, url: 'http://a'}\nresourceRules:\n${resourceOnly("cpu")}${resourceOnly("memory")}`;
    const none = compileRules(parseRulesText(text, "rules.yaml"), () => mapper);
    const relister = combineRelisters([backend("default", null, none).part, backend("team-a", null, none).part]);
    expect(relister.ready()).toBe(true);
  });
});
