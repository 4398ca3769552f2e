/**
 * Fuzzes the streaming series parser exactly as the client runs it (response body stream -> envelope -> series
 * handler) with mutated Prometheus answers arriving in random chunks: it must either agree with JSON.parse plus the
 * buffered decoder, or fail with a PrometheusError / ResponseShapeError — never another exception, never a silently
 * different answer.
 */
import { describe, expect, test } from "bun:test";
import { decodeSeriesList, ResponseShapeError } from "../../src/prometheus/decode.ts";
import { streamEnvelope } from "../../src/prometheus/envelope-body-stream.ts";
import { PrometheusError } from "../../src/prometheus/errors.ts";
import { createSeriesListHandler } from "../../src/prometheus/series-stream.ts";
import { createRandom } from "../support/go-strings.ts";

const VALID = JSON.stringify({
  status: "success",
  data: [
    { __name__: "http_requests_total", namespace: "default", pod: "web-0", path: '/a"b\\c\u00e9\ud83d\ude00' },
    { __name__: "up", job: "x", instance: "127.0.0.1:9090" },
    { namespace: "no-name" },
  ],
  warnings: ["partial"],
});
const PIECES = [
  '"',
  "\\",
  "{",
  "}",
  "[",
  "]",
  ",",
  ":",
  "\\u",
  "\\ud800",
  "null",
  "1e",
  "\u0000",
  "é",
  "\ud83d",
  '"__name__"',
  " ",
  '"error"',
  '"status"',
];

async function streamed(bytes: Uint8Array, random: (n: number) => number) {
  const seen: { name: string | undefined; labelNames: string[] }[] = [];
  const list = createSeriesListHandler((name, labelNames) => seen.push({ name, labelNames: [...labelNames] }));
  const chunks: Uint8Array[] = [];
  for (let from = 0; from < bytes.length; ) {
    const to = Math.min(bytes.length, from + 1 + random(16));
    chunks.push(bytes.slice(from, to));
    from = to;
  }
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
  await streamEnvelope(new Response(body), list, {
    maxBytes: 1 << 20,
    contentType: "application/json",
    secrets: [],
    fail: (kind, message) =>
      new PrometheusError(kind, message, { endpoint: "series", url: "http://prometheus/api/v1/series" }),
    readFailed: (error) =>
      new PrometheusError("bad_response", `read failed: ${(error as Error).message}`, { endpoint: "series", url: "" }),
  });
  return seen;
}

describe("the streaming series parser under mutation", () => {
  test("3000 mutated answers either parse like JSON.parse or fail with the client's own errors", async () => {
    const random = createRandom(4242);
    let parsed = 0;
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      let text = VALID;
      for (let m = 0; m <= random(3); m++) {
        const at = random(text.length + 1);
        const action = random(3);
        if (action === 0) text = text.slice(0, at) + PIECES[random(PIECES.length)] + text.slice(at);
        else if (action === 1) text = text.slice(0, at) + text.slice(at + 1 + random(4));
        else text = text.slice(0, at);
      }
      const bytes = new TextEncoder().encode(text);
      let seen: Awaited<ReturnType<typeof streamed>>;
      try {
        seen = await streamed(bytes, random);
      } catch (error) {
        rejected++;
        if (!(error instanceof PrometheusError || error instanceof ResponseShapeError)) {
          throw new Error(
            `unexpected ${(error as Error).name} for ${JSON.stringify(text)}: ${(error as Error).message}`,
          );
        }
        continue;
      }
      parsed++;
      // Accepted input must be valid JSON (JSON.parse throws otherwise, failing the test) and decode to the same series.
      const reference = JSON.parse(new TextDecoder().decode(bytes)) as { status?: string; data?: unknown };
      expect(reference.status).toBe("success");
      const expected = decodeSeriesList(reference.data).map(({ __name__, ...labels }) => ({
        name: __name__,
        labelNames: Object.keys(labels),
      }));
      expect(seen).toEqual(expected);
    }
    expect(parsed).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });
});
