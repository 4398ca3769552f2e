/**
 * The walkthrough (docs/walkthrough.md) on one machine, without a cluster: a simulated podinfo with three pods under
 * load, a real Prometheus scraping it, prom-adapter in standalone mode in front of that Prometheus, the custom
 * metric read the way `kubectl get --raw` reads it, and the replica count the walkthrough's HPA (700m per pod) would
 * choose, with the arithmetic.
 *
 *   npx bun run scripts/demo.ts            keeps running and re-reads every 15 s (the HPA's sync period); Ctrl-C stops
 *   npx bun run scripts/demo.ts --once     prints one reading and exits 0
 *   --target=QUANTITY                      the HPA's averageValue (default 700m)
 *
 * Needs Debian's Prometheus (`sudo apt-get install prometheus`): `prometheus` and `promtool` on PATH. Uses the real
 * kubectl when it is on PATH (never with your kubeconfig), fetch otherwise. Every process it starts and its
 * temporary directory are removed on exit, Ctrl-C and errors.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getRaw, startDemoAdapter, waitUntilReady, type ApiAnswer, type DemoAdapter } from "./demo/adapter.ts";
import { decideReplicas, explainDecision, formatMilli, milliValue, QuantityError } from "./demo/hpa.ts";
import { startPodinfoSim } from "./demo/podinfo-sim.ts";
// NB: the demo starts Prometheus with the same harness the integration tests use (backfill with promtool, a free
// port, a watchdog that kills it if the demo dies).
import { findPrometheus, startPrometheus } from "../test/support/prometheus.ts";

const USAGE = "usage: npx bun run scripts/demo.ts [--once] [--target=700m]";
const METRIC_PATH = "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/*/http_requests";
/** How often the HPA controller re-reads metrics (--horizontal-pod-autoscaler-sync-period). */
const HPA_SYNC_MS = 15_000;
/** Prometheus scrape interval; the backfilled history uses the same step. */
const SCRAPE_INTERVAL_SECONDS = 5;

interface DemoOptions {
  readonly once: boolean;
  readonly targetMilli: number;
}

function parseArgs(argv: readonly string[]): DemoOptions | string {
  let once = false;
  let target = "700m";
  for (const arg of argv) {
    if (arg === "--once") once = true;
    else if (arg.startsWith("--target=")) target = arg.slice("--target=".length);
    else if (arg === "--help" || arg === "-h") return USAGE;
    else return `unknown argument ${JSON.stringify(arg)}\n${USAGE}`;
  }
  try {
    const targetMilli = milliValue(target);
    if (targetMilli <= 0) return `--target must be greater than 0\n${USAGE}`;
    return { once, targetMilli };
  } catch (error) {
    if (error instanceof QuantityError) return `--target: ${error.message}\n${USAGE}`;
    throw error;
  }
}

/** Runs cleanup steps once, last added first; errors are reported, not thrown. */
function createCleanup() {
  const steps: (() => unknown)[] = [];
  let running: Promise<void> | undefined;
  return {
    add(step: () => unknown) {
      steps.push(step);
    },
    run(): Promise<void> {
      return (running ??= (async () => {
        for (const step of steps.reverse()) {
          try {
            await step();
          } catch (error) {
            console.error(`cleanup: ${(error as Error).message}`);
          }
        }
      })());
    },
  };
}

interface Reading {
  readonly answer: ApiAnswer;
  readonly values: readonly { readonly pod: string; readonly milli: number }[];
}

/** Reads the metric until it has values (discovery may not have seen the series yet), or throws after `timeoutMs`. */
async function readMetric(adapter: DemoAdapter, noKubeconfig: string, timeoutMs: number): Promise<Reading> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await getRaw(adapter, METRIC_PATH, noKubeconfig);
    if (answer.ok) {
      const items = (JSON.parse(answer.body) as { items: { describedObject: { name: string }; value: string }[] })
        .items;
      if (items.length > 0)
        return {
          answer,
          values: items.map((item) => ({ pod: item.describedObject.name, milli: milliValue(item.value) })),
        };
    }
    if (Date.now() > deadline)
      throw new Error(
        `the metric did not appear within ${timeoutMs / 1000} s; last answer:\n${answer.body}\nprom-adapter log:\n${adapter.log()}`,
      );
    await Bun.sleep(250);
  }
}

function printDecision(values: Reading["values"], targetMilli: number): void {
  const valuesMilli = values.map((value) => value.milli);
  const decision = decideReplicas({ valuesMilli, targetMilli });
  console.log(
    `\nAn HPA like deploy/examples/podinfo-hpa.yaml (Pods metric http_requests, averageValue ${formatMilli(targetMilli)}) with these ${values.length} pods:`,
  );
  for (const line of explainDecision(decision, valuesMilli)) console.log(`  ${line}`);
  console.log(
    "  (then clamped to minReplicas..maxReplicas; scale-downs also wait out the 5-minute stabilization window)",
  );
}

async function main(argv: readonly string[]): Promise<number> {
  const options = parseArgs(argv);
  if (typeof options === "string") {
    const help = options === USAGE;
    (help ? console.log : console.error)(options);
    return help ? 0 : 2;
  }
  if (findPrometheus() === null) {
    console.error("prom-adapter demo: Prometheus is not installed (`prometheus` and `promtool` must be on PATH).");
    console.error("Install Debian's package, then run the demo again:");
    console.error("  sudo apt-get install prometheus");
    return 1;
  }

  const dir = mkdtempSync(join(tmpdir(), "prom-adapter-demo-"));
  const cleanup = createCleanup();
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  const stopOnSignal = (signal: NodeJS.Signals, code: number) =>
    process.on(signal, () => {
      console.log(`\n${signal}: stopping prom-adapter, Prometheus and the simulated podinfo`);
      void cleanup.run().then(() => process.exit(code));
    });
  stopOnSignal("SIGINT", 0);
  stopOnSignal("SIGTERM", 143);

  try {
    console.log(`prom-adapter demo (working directory ${dir})\n`);
    const sim = startPodinfoSim();
    cleanup.add(() => sim.stop());
    console.log(
      `1. simulated podinfo: ${sim.pods.length} pods in namespace ${sim.namespace}, ~0.9 requests/s each, on ${sim.url}`,
    );

    const prometheus = await startPrometheus({
      scrapeTargets: [sim.target],
      scrapeJob: "podinfo",
      scrapeInterval: `${SCRAPE_INTERVAL_SECONDS}s`,
      openMetrics: sim.history({ job: "podinfo", instance: sim.target }, SCRAPE_INTERVAL_SECONDS),
    });
    cleanup.add(() => prometheus.stop());
    console.log(
      `2. Prometheus on ${prometheus.url}, scraping it every ${SCRAPE_INTERVAL_SECONDS}s (the last 10 minutes of load backfilled with promtool)`,
    );

    const adapter = await startDemoAdapter({
      certDir: join(dir, "certs"),
      args: [`--prometheus-url=${prometheus.url}`],
    });
    cleanup.add(() => adapter.stop());
    console.log(`3. prom-adapter on ${adapter.url} (--standalone, the default rules)`);
    await waitUntilReady(adapter, 30_000);

    const noKubeconfig = join(dir, "no-kubeconfig");
    const first = await readMetric(adapter, noKubeconfig, 60_000);
    console.log(
      `4. the custom metric, read ${first.answer.viaKubectl ? "with kubectl" : "with fetch (kubectl not found)"}:\n`,
    );
    console.log(`$ ${first.answer.command}`);
    console.log(JSON.stringify(JSON.parse(first.answer.body), null, 2));
    console.log(
      "\n(A real HPA also sends ?labelSelector=app=podinfo; standalone mode has no Kubernetes API to resolve it.)",
    );
    printDecision(first.values, options.targetMilli);
    if (options.once) return 0;

    console.log(
      `\nRe-reading every ${HPA_SYNC_MS / 1000} s like the HPA. More load: while true; do curl -s ${sim.url}/ >/dev/null; done`,
    );
    console.log(`Or query it yourself: ${first.answer.command}`);
    console.log("Ctrl-C stops everything.\n");
    for (;;) {
      await Bun.sleep(HPA_SYNC_MS);
      const reading = await readMetric(adapter, noKubeconfig, 30_000);
      const decision = decideReplicas({
        valuesMilli: reading.values.map((value) => value.milli),
        targetMilli: options.targetMilli,
      });
      const time = new Date().toISOString().slice(11, 19);
      const values = reading.values.map((value) => formatMilli(value.milli)).join(" ");
      console.log(
        `${time}  http_requests ${values}  average ${formatMilli(decision.averageMilli)}  ratio ${decision.ratio.toFixed(3)}  -> ${decision.desiredReplicas} replicas${decision.withinTolerance ? " (within tolerance)" : ""}`,
      );
    }
  } catch (error) {
    console.error(`prom-adapter demo failed: ${(error as Error).message}`);
    return 1;
  } finally {
    await cleanup.run();
  }
}

process.exitCode = await main(process.argv.slice(2));
process.exit();
