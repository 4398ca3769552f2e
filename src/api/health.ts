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

/** One line of `/readyz?verbose`: a named check and its state (`reason` when it fails). */
export interface ReadinessDetail {
  readonly name: string;
  readonly ok: boolean;
  readonly reason?: string;
}

/**
 * `details` (default none) lists the checks behind readiness, e.g. each Prometheus backend; when it returns null
 * (a single backend), `?verbose` changes nothing. With details, `?verbose` answers Kubernetes' verbose format:
 * `[+]name ok` / `[-]name failed: reason` lines, then `readyz check passed` or `not ready: <reason>`.
 */
export function healthApi(readiness: ReadinessCheck, details?: () => readonly ReadinessDetail[] | null) {
  return new Elysia({ name: "health" })
    .get("/healthz", () => text("ok"))
    .get("/livez", () => text("ok"))
    .get("/readyz", ({ request }) => {
      const notReady = readiness();
      const verbose = new URL(request.url).searchParams.has("verbose") ? (details?.() ?? null) : null;
      if (verbose === null)
        return notReady === null ? text("ok") : text(`not ready: ${notReady.reason}`, notReady.code);
      const lines = verbose.map((check) =>
        check.ok ? `[+]${check.name} ok` : `[-]${check.name} failed: ${check.reason}`,
      );
      const last = notReady === null ? "readyz check passed" : `not ready: ${notReady.reason}`;
      return text(`${[...lines, last].join("\n")}\n`, notReady?.code ?? 200);
    });
}

/** `/metrics`: Prometheus text format of the adapter's own metrics. */
export function selfMetricsApi(metricsText: () => Promise<string>, contentType: string) {
  return new Elysia({ name: "self-metrics" }).get(
    "/metrics",
    async () => new Response(await metricsText(), { headers: { "content-type": contentType } }),
  );
}
