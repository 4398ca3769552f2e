import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  answeringProcessProblem,
  openMetricsText,
  prometheusSkipReason,
  RUN_TOKEN_LABEL,
  type OpenMetricsSeries,
  startExporter,
  startPrometheus,
  type RunningPrometheus,
} from "./prometheus.ts";
import { announceSkip } from "./skip.ts";

// NB: bunfig's [test] timeout is not applied by bun 1.4.5 (tests still stop at 5 s); the first scrape alone takes ~6 s.
setDefaultTimeout(30_000);

const skipReason = prometheusSkipReason();
announceSkip("real-Prometheus tests", skipReason);

interface VectorAnswer {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function instantQuery(prometheus: RunningPrometheus, query: string): Promise<VectorAnswer> {
  const response = await fetch(`${prometheus.url}/api/v1/query?${new URLSearchParams({ query })}`);
  return (await response.json()) as VectorAnswer;
}

describe("openMetricsText", () => {
  test("writes one TYPE line per family, escapes label values, sorts samples and ends with # EOF", () => {
    const text = openMetricsText([
      {
        name: "http_requests_total",
        type: "counter",
        labels: { pod: "a" },
        samples: [
          [20, 5],
          [10, 1],
        ],
      },
      {
        name: "memory",
        labels: { note: 'q"x\\y\nz' },
        samples: [
          [10, NaN],
          [11, Infinity],
          [12, -Infinity],
        ],
      },
      { name: "http_requests_total", type: "counter", labels: { pod: "b" }, samples: [[10, "7"]] },
      { name: "bare", labels: {}, samples: [[1.5, 0.25]] },
    ]);
    expect(text).toBe(
      [
        "# TYPE http_requests counter",
        'http_requests_total{pod="a"} 1 10',
        'http_requests_total{pod="a"} 5 20',
        'http_requests_total{pod="b"} 7 10',
        "# TYPE memory gauge",
        'memory{note="q\\"x\\\\y\\nz"} NaN 10',
        'memory{note="q\\"x\\\\y\\nz"} +Inf 11',
        'memory{note="q\\"x\\\\y\\nz"} -Inf 12',
        "# TYPE bare gauge",
        "bare 0.25 1.5",
        "# EOF",
        "",
      ].join("\n"),
    );
  });

  test.each<{ name: string; series: OpenMetricsSeries; error: string }>([
    {
      name: "a counter without _total",
      series: { name: "requests", type: "counter", labels: {}, samples: [] },
      error: "must end with _total",
    },
    { name: "an invalid metric name", series: { name: "1bad", labels: {}, samples: [] }, error: "invalid metric name" },
    {
      name: "an invalid label name",
      series: { name: "ok", labels: { "a-b": "x" }, samples: [] },
      error: "invalid label name",
    },
  ])("rejects $name", ({ series, error }) => {
    expect(() => openMetricsText([series])).toThrow(error);
  });
});

describe.skipIf(skipReason !== null)("startPrometheus", () => {
  const running: RunningPrometheus[] = [];
  afterAll(async () => {
    await Promise.all(running.map((prometheus) => prometheus.stop()));
  });

  test("backfilled samples from a few seconds ago answer an instant query at the current time", async () => {
    const now = Math.floor(Date.now() / 1000);
    const prometheus = await startPrometheus({
      openMetrics: openMetricsText([
        {
          name: "http_requests_total",
          type: "counter",
          labels: { namespace: "default", pod: "web-1" },
          samples: [
            [now - 60, 10],
            [now - 5, 42],
          ],
        },
        { name: "queue_depth", labels: { queue: 'odd "name"\\' }, samples: [[now - 3, 7.5]] },
      ]),
    });
    running.push(prometheus);
    console.info(
      `prometheus: backfill ${prometheus.timings.backfillMs.toFixed(0)} ms, start to ready ${prometheus.timings.startMs.toFixed(0)} ms`,
    );

    const counter = await instantQuery(prometheus, "http_requests_total");
    expect(counter.data.result.map(({ metric, value }) => ({ metric, value: value[1] }))).toEqual([
      { metric: { __name__: "http_requests_total", namespace: "default", pod: "web-1" }, value: "42" },
    ]);
    const gauge = await instantQuery(prometheus, "queue_depth");
    expect(gauge.data.result.map(({ metric, value }) => ({ metric, value: value[1] }))).toEqual([
      { metric: { __name__: "queue_depth", queue: 'odd "name"\\' }, value: "7.5" },
    ]);
  });

  test("a backfilled sample from 20 days ago survives next to one from now", async () => {
    const now = Math.floor(Date.now() / 1000);
    const old = now - 20 * 86_400;
    const prometheus = await startPrometheus({
      openMetrics: openMetricsText([
        {
          name: "history",
          labels: {},
          samples: [
            [old, 1],
            [now - 5, 2],
          ],
        },
      ]),
    });
    running.push(prometheus);
    const response = await fetch(
      `${prometheus.url}/api/v1/query?${new URLSearchParams({ query: "history", time: String(old + 10) })}`,
    );
    const answer = (await response.json()) as VectorAnswer;
    expect(answer.data.result.map(({ value }) => value[1])).toEqual(["1"]);
  });

  test("raw OpenMetrics text without # EOF and with blank lines is accepted", async () => {
    const now = Math.floor(Date.now() / 1000);
    const prometheus = await startPrometheus({ openMetrics: `\nraw_metric{a="b"} 3 ${now - 2}\n\n` });
    running.push(prometheus);
    const answer = await instantQuery(prometheus, "raw_metric");
    expect(answer.data.result.map(({ value }) => value[1])).toEqual(["3"]);
  });

  test("a scraped exporter's samples become queryable with job and instance labels", async () => {
    const exporter = startExporter(() => '# TYPE scraped_value gauge\nscraped_value{kind="x"} 123\n');
    const prometheus = await startPrometheus({ scrapeTargets: [exporter.target] });
    running.push(prometheus);
    try {
      await exporter.scraped(2);
      const answer = await instantQuery(prometheus, "scraped_value");
      expect(answer.data.result.map(({ metric, value }) => ({ metric, value: value[1] }))).toEqual([
        { metric: { __name__: "scraped_value", kind: "x", job: "harness", instance: exporter.target }, value: "123" },
      ]);
      expect(exporter.scrapes()).toBeGreaterThan(0);
    } finally {
      await exporter.stop();
    }
  });

  test("the Prometheus that answers carries this run's token in its config, a different one per start", async () => {
    const first = await startPrometheus();
    running.push(first);
    const second = await startPrometheus();
    running.push(second);
    const tokenOf = async (prometheus: RunningPrometheus) => {
      const body = (await (await fetch(`${prometheus.url}/api/v1/status/config`)).json()) as { data: { yaml: string } };
      return new RegExp(`${RUN_TOKEN_LABEL}: (\\S+)`).exec(body.data.yaml)?.[1];
    };
    const [firstToken, secondToken] = [await tokenOf(first), await tokenOf(second)];
    expect(firstToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(secondToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(firstToken).not.toBe(secondToken);
  });

  test("a server on the port that lacks the run token is refused, as is a child that has exited", async () => {
    const stranger = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) =>
        new URL(request.url).pathname === "/-/ready"
          ? new Response("Prometheus Server is Ready.\n")
          : Response.json({ status: "success", data: { yaml: "global:\n  external_labels:\n    other: run\n" } }),
    });
    const child = Bun.spawn(["sleep", "30"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    try {
      const url = `http://127.0.0.1:${stranger.port}`;
      expect(await answeringProcessProblem(child, url, crypto.randomUUID())).toContain(
        "is not the Prometheus just started",
      );
      child.kill("SIGKILL");
      await child.exited;
      expect(await answeringProcessProblem(child, url, crypto.randomUUID())).toContain("exited");
    } finally {
      child.kill("SIGKILL");
      await stranger.stop(true);
    }
  });

  test("routePrefix serves the API and readiness under the prefix", async () => {
    const prometheus = await startPrometheus({ routePrefix: "/prefix" });
    running.push(prometheus);
    expect(prometheus.url).toBe(`http://127.0.0.1:${prometheus.port}/prefix`);
    expect((await fetch(`${prometheus.url}/api/v1/query?query=1`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${prometheus.port}/api/v1/query?query=1`)).status).toBe(404);
  });

  test("pause stops answers until resume; kill refuses connections and removes the directory", async () => {
    const prometheus = await startPrometheus();
    running.push(prometheus);
    prometheus.pause();
    const paused = await fetch(`${prometheus.url}/-/ready`, { signal: AbortSignal.timeout(300) }).catch(
      (error: Error) => error.name,
    );
    expect(paused).toBe("TimeoutError");
    prometheus.resume();
    expect((await fetch(`${prometheus.url}/-/ready`)).status).toBe(200);
    await prometheus.kill();
    const refused = await fetch(`${prometheus.url}/-/ready`).catch((error: Error & { code?: string }) => error.code);
    expect(refused).toBe("ECONNREFUSED");
    expect(await Bun.file(`${prometheus.dir}/prometheus.yml`).exists()).toBe(false);
  });

  test("a promtool failure is reported with promtool's message", async () => {
    await expect(startPrometheus({ openMetrics: "metric_without_timestamp 1\n# EOF\n" })).rejects.toThrow(
      "expected timestamp",
    );
  });
});
