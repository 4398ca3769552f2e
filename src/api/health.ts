/**
 * `/healthz`, `/livez`, `/readyz` (docs/api.md, Operational endpoints): plain text, always answered. They skip
 * authorization while they are in `--authorization-always-allow-paths`, which holds all three by default.
 */
import { Elysia } from "elysia";

/** Why the server is not ready, with the status to answer (500 before the first discovery, 503 while draining). */
export interface NotReady {
  readonly code: 500 | 503;
  readonly reason: string;
}

/** Null when ready. */
export type ReadinessCheck = () => NotReady | null;

const text = (body: string, status = 200) =>
  new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });

export function healthApi(readiness: ReadinessCheck) {
  return new Elysia({ name: "health" })
    .get("/healthz", () => text("ok"))
    .get("/livez", () => text("ok"))
    .get("/readyz", () => {
      const notReady = readiness();
      return notReady === null ? text("ok") : text(`not ready: ${notReady.reason}`, notReady.code);
    });
}

/** `/metrics`: Prometheus text format of the adapter's own metrics. */
export function selfMetricsApi(metricsText: () => Promise<string>, contentType: string) {
  return new Elysia({ name: "self-metrics" }).get(
    "/metrics",
    async () => new Response(await metricsText(), { headers: { "content-type": contentType } }),
  );
}
