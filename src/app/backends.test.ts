import { afterAll, afterEach, expect, test } from "bun:test";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../apimachinery/rest-mapper.ts";
import { parseRulesText } from "../config/load.ts";
import { compileRules, type CompiledRules } from "../naming/compile-rules.ts";
import { promql } from "../naming/promql.ts";
import { createMemoryLogger } from "../observability/logger.ts";
import { createSelfMetrics } from "../observability/self-metrics.ts";
import type { PrometheusClient } from "../prometheus/client.ts";
import { createManualClock } from "../util/clock.ts";
import { createBackends, type Backends } from "./backends.ts";

const mapper = createTableRestMapper(BUILTIN_RESOURCES);
const compile = (text: string) => compileRules(parseRulesText(text, "rules.yaml"), () => mapper);
const rule = (name: string, backend: string) => `- seriesQuery: '{__name__="${name}",namespace!=""}'
  resources: {template: <<.Resource>>}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
  prometheus: {backend: ${backend}}
`;

/** A Prometheus holding two series; a series call gets those its `match[]` names (an HTTP server on port 0). */
const SERIES = [
  { __name__: "a_only", namespace: "team-a", pod: "p" },
  { __name__: "b_only", namespace: "team-b", pod: "p" },
];
/** The tenant header and `dedup` parameter of every query the server received. */
const queriesSeen: { tenant: string | null; dedup: string | null }[] = [];
const server = Bun.serve({
  port: 0,
  async fetch(request) {
    const form = request.method === "POST" ? await request.formData() : new URL(request.url).searchParams;
    if (new URL(request.url).pathname === "/api/v1/query") {
      queriesSeen.push({ tenant: request.headers.get("x-scope-orgid"), dedup: form.get("dedup")?.toString() ?? null });
      return Response.json({ status: "success", data: { resultType: "vector", result: [] } });
    }
    const matches = form.getAll("match[]").map(String);
    const data = SERIES.filter((series) => matches.some((match) => match.includes(`"${series.__name__}"`)));
    return Response.json({ status: "success", data });
  },
});
const url = `http://127.0.0.1:${server.port}`;
afterAll(() => server.stop(true));
const running: Backends[] = [];
afterEach(() => {
  for (const backends of running.splice(0)) backends.relister.stop();
});

function startBackends(rules: () => CompiledRules, metrics = createSelfMetrics({ processMetrics: false })): Backends {
  const backends = createBackends({
    defaultClient: { series: async () => [], streamSeries: async () => 0 } as unknown as PrometheusClient,
    rules,
    options: {
      relistInterval: 600_000,
      maxAge: 600_000,
      freshInterval: 0,
      discoveryMode: "series",
      prometheus: { verb: "GET", queryTimeout: 1000, seriesTimeout: 1000 },
    } as unknown as Parameters<typeof createBackends>[0]["options"],
    metrics,
    clock: createManualClock(),
    logger: createMemoryLogger(),
  });
  running.push(backends);
  backends.relister.start();
  return backends;
}

test("a reload adding a backend and a rule naming it registers that rule's metric after the first run", async () => {
  const before = compile(`backends:\n- {name: team-a, url: '${url}'}\nrules:\n${rule("a_only", "team-a")}`);
  const after = compile(
    `backends:\n- {name: team-a, url: '${url}'}\n- {name: team-b, url: '${url}'}\nrules:\n` +
      rule("a_only", "team-a") +
      rule("b_only", "team-b"),
  );
  let rules = before;
  const backends = startBackends(() => rules);
  await backends.relister.runOnce();
  // What the reloader in start.ts does: the backends first (a failure keeps the old rules), then the rules.
  backends.apply(after);
  rules = after;
  await backends.relister.runOnce();
  const metrics = backends.relister
    .current()
    .registry.customMetrics()
    .map((entry) => `${entry.metric}@${entry.backends?.join(",")}`);
  expect(metrics).toContain("b_only@team-b");
});

test("a backend's own tenant header and parameters win over those of a rule routed to it", async () => {
  const rules = compile(
    `backends:\n- {name: team-a, url: '${url}', headers: {X-Scope-OrgID: team-a}, parameters: {dedup: "true"}}\n` +
      `rules:\n${rule("a_only", "team-a")}`,
  );
  const backends = startBackends(() => rules);
  const teamA = backends.sources().get("team-a")!;
  const extras = { backend: "team-a", headers: { "x-scope-orgid": "team-b" }, parameters: { dedup: "false" } };
  await teamA.query(promql("up"), 1, undefined, extras);
  expect(queriesSeen.at(-1)).toEqual({ tenant: "team-a", dedup: "true" });
});

test("a reload reports removed and reconnected backends as stale and drops the removed one's self-metrics", async () => {
  const metrics = createSelfMetrics({ processMetrics: false });
  const teamA = (tenant: string) => `- {name: team-a, url: '${url}', headers: {X-Scope-OrgID: ${tenant}}}\n`;
  const teamB = `- {name: team-b, url: '${url}'}\n`;
  const rules = `rules:\n${rule("a_only", "team-a")}`;
  const before = compile(`backends:\n${teamA("a")}${teamB}${teamA("a").replace(/team-a/, "team-c")}${rules}`);
  const after = compile(`backends:\n${teamA("a2")}${teamA("a").replace(/team-a/, "team-c")}${rules}`);
  const backends = startBackends(() => before, metrics);
  await backends.relister.runOnce();
  const exported = async () => (await metrics.text()).match(/backend="[^"]*"/g)?.sort() ?? [];
  expect(new Set(await exported())).toEqual(new Set(['backend="team-a"', 'backend="team-b"', 'backend="team-c"']));
  const changes = backends.apply(after);
  await changes.seriesRemoved;
  expect({ stale: changes.stale, exported: new Set(await exported()) }).toEqual({
    stale: ["team-a", "team-b"],
    exported: new Set(['backend="team-a"', 'backend="team-c"']),
  });
});
