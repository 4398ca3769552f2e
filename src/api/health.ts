/** `/healthz`, `/livez`, `/readyz` (spec api.md §11): plain text, always answered, never authorised. */
import { Elysia } from "elysia";

/** Why the server is not ready yet, or null when it is. */
export type ReadinessCheck = () => string | null;

const text = (body: string, status = 200) => new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });

export function healthApi(notReadyReason: ReadinessCheck) {
  return new Elysia({ name: "health" })
    .get("/healthz", () => text("ok"))
    .get("/livez", () => text("ok"))
    .get("/readyz", () => {
      const reason = notReadyReason();
      return reason === null ? text("ok") : text(`not ready: ${reason}`, 500);
    });
}
