import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCaptureServer } from "../../test/support/capture-server.ts";
import { createPrometheusClient } from "./client.ts";
import { PrometheusError } from "./errors.ts";
import { createHttpTransport, type HttpTransportOptions } from "./http-transport.ts";

const encoder = new TextEncoder();

function clientFor(
  baseUrl: string,
  options: Partial<HttpTransportOptions> = {},
  clientOptions: Parameters<typeof createPrometheusClient>[1] = {},
) {
  return createPrometheusClient(createHttpTransport({ baseUrl, ...options }), clientOptions);
}

/** Streams series and collects `name:label,label` strings. */
async function collect(
  client: ReturnType<typeof clientFor>,
  matches: readonly string[] = ["up"],
  signal?: AbortSignal,
) {
  const seen: string[] = [];
  const count = await client.streamSeries(
    matches,
    1714564800,
    (name, labelNames) => seen.push(`${name}:${labelNames.join(",")}`),
    signal,
  );
  return { seen, count };
}

async function rejection(promise: Promise<unknown>): Promise<PrometheusError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof PrometheusError)) throw new Error(`expected a PrometheusError, got ${String(error)}`);
  return error;
}

/** A response whose body arrives in the given pieces. */
function chunked(pieces: readonly string[], init: ResponseInit = {}): Response {
  return new Response(
    new ReadableStream({
      start(controller) {
        for (const piece of pieces) controller.enqueue(encoder.encode(piece));
        controller.close();
      },
    }),
    init,
  );
}

const BODY = '{"status":"success","data":[{"__name__":"a","namespace":"x","pod":"p"},{"__name__":"b","job":"j"}]}';

describe("streamed series calls", () => {
  test("send the same request as the buffered call", async () => {
    await using server = startCaptureServer(() => new Response(BODY));
    const client = clientFor(server.url);
    await client.series(['up{job="a b"}'], 1714564800.123);
    await client.streamSeries(['up{job="a b"}'], 1714564800.123, () => {});
    expect(server.requests[1]).toEqual(server.requests[0]!);
  });

  test("visit every series, whatever the chunking on the wire", async () => {
    const pieces = BODY.match(/.{1,7}/gs) ?? [];
    await using server = startCaptureServer(() => chunked(pieces));
    expect(await collect(clientFor(server.url))).toEqual({ seen: ["a:namespace,pod", "b:job"], count: 2 });
  });

  test("switch to POST with a form body when the URL would pass the GET limit", async () => {
    await using server = startCaptureServer(() => new Response(BODY));
    const matches = Array.from({ length: 400 }, (_, index) => `{__name__="metric_with_a_long_name_${index}"}`);
    await collect(clientFor(server.url), matches);
    const [request] = server.requests;
    expect({ method: request?.method, path: request?.pathAndQuery, type: request?.headers["content-type"] }).toEqual({
      method: "POST",
      path: "/api/v1/series",
      type: "application/x-www-form-urlencoded",
    });
    expect(new URLSearchParams(request?.body).getAll("match[]")).toEqual(matches);
  });

  test("a status:error answer is an api error with Prometheus' message and status", async () => {
    await using server = startCaptureServer(() =>
      Response.json({ status: "error", errorType: "bad_data", error: 'invalid parameter "match[]"' }, { status: 400 }),
    );
    const error = await rejection(collect(clientFor(server.url)));
    expect({
      kind: error.kind,
      message: error.message,
      statusCode: error.statusCode,
      errorType: error.errorType,
    }).toEqual({
      kind: "api",
      message: 'bad_data: invalid parameter "match[]"',
      statusCode: 400,
      errorType: "bad_data",
    });
  });

  test("an unexpected status is a bad_response naming the code", async () => {
    await using server = startCaptureServer(() => new Response("bad gateway", { status: 502 }));
    expect((await rejection(collect(clientFor(server.url)))).message).toBe("bad_response: unknown response code 502");
  });

  test.each([
    {
      name: "an HTML page",
      body: ["<html><body>Bad gateway</body></html>"],
      type: "text/html",
      message:
        "bad_response: response is not valid JSON (37 bytes of text/html): unexpected character '<' at byte 0; body starts with \"<html><body>Bad gateway</body></html>\"",
    },
    {
      name: "a body cut in the middle",
      body: ['{"status":"success","data":[{"__name__":"a"', ',"pod":"p'],
      type: "application/json",
      message:
        'bad_response: response is not valid JSON (52 bytes of application/json): unexpected end of input at byte 52; body starts with "{\\"status\\":\\"success\\",\\"data\\":[{\\"__name__\\":\\"a\\",\\"pod\\":\\"p"',
    },
    {
      name: "JSON that is not an envelope",
      body: ['{"hello":"world"}'],
      type: "application/json",
      message:
        'bad_response: response is not a Prometheus API envelope (17 bytes of application/json); body starts with "{\\"hello\\":\\"world\\"}"',
    },
    {
      name: "data of the wrong shape",
      body: ['{"status":"success","data":{}}'],
      type: "application/json",
      message: "bad_response: series data: expected a list, got object",
    },
  ])("$name is a bad_response that says what arrived", async ({ body, type, message }) => {
    await using server = startCaptureServer(() => chunked(body, { headers: { "content-type": type } }));
    const error = await rejection(collect(clientFor(server.url)));
    expect({ kind: error.kind, message: error.message }).toEqual({ kind: "bad_response", message });
  });

  test("a token echoed in a non-JSON body is redacted from the error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "prom-adapter-stream-"));
    try {
      const tokenFile = join(dir, "token");
      writeFileSync(tokenFile, "s3cr3t-token");
      await using server = startCaptureServer(({ headers }) => new Response(`denied for ${headers.authorization}`));
      const error = await rejection(collect(clientFor(server.url, { bearerTokenFile: tokenFile })));
      expect(error.message).not.toContain("s3cr3t-token");
      expect(error.message).toContain("denied for Bearer <redacted>");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([
    { name: "declared by Content-Length", streamed: false },
    { name: "streamed without Content-Length", streamed: true },
  ])("a body over maxBodyBytes is too_large ($name)", async ({ streamed }) => {
    const big = JSON.stringify({
      status: "success",
      data: Array.from({ length: 200 }, (_, index) => ({ __name__: `m${index}`, pod: "p" })),
    });
    await using server = startCaptureServer(() =>
      streamed ? chunked(big.match(/.{1,512}/gs) ?? []) : new Response(big),
    );
    const error = await rejection(collect(clientFor(server.url, { maxBodyBytes: 4096 })));
    expect({ kind: error.kind, message: error.message }).toEqual({
      kind: "too_large",
      message: "too_large: response body exceeds 4096 bytes",
    });
    expect((await collect(clientFor(server.url, { maxBodyBytes: 0 }))).count).toBe(200);
  });

  test("a body that stops half-way times out", async () => {
    await using server = startCaptureServer(
      () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(encoder.encode('{"status":"success","data":[{"__name__":"a"},'));
            },
          }),
        ),
    );
    const error = await rejection(collect(clientFor(server.url, {}, { seriesTimeoutMs: 100 })));
    expect({ kind: error.kind, message: error.message }).toEqual({
      kind: "timeout",
      message: "timeout: no complete response within 100 ms",
    });
  });

  test("the caller's abort rejects with the caller's reason", async () => {
    await using server = startCaptureServer(() => new Promise<Response>(() => {}));
    const controller = new AbortController();
    const pending = collect(clientFor(server.url), ["up"], controller.signal);
    const reason = new Error("shutting down");
    controller.abort(reason);
    expect(await pending.catch((error: unknown) => error)).toBe(reason);
  });

  test("a visitor that throws stops the call with its error", async () => {
    await using server = startCaptureServer(() => new Response(BODY));
    const failure = new Error("enough");
    const outcome = clientFor(server.url).streamSeries(["up"], 0, () => {
      throw failure;
    });
    expect(await outcome.catch((error: unknown) => error)).toBe(failure);
  });
});

describe("label values", () => {
  test("are asked for without matchers, with start, and decoded", async () => {
    await using server = startCaptureServer(() =>
      Response.json({ status: "success", data: ["up", "http_requests_total"] }),
    );
    expect(await clientFor(server.url).labelValues("__name__", 1714564800.5)).toEqual(["up", "http_requests_total"]);
    expect(server.requests[0]?.pathAndQuery).toBe("/api/v1/label/__name__/values?start=1714564800.5");
  });

  test("send match[] when given", async () => {
    await using server = startCaptureServer(() => Response.json({ status: "success", data: [] }));
    await clientFor(server.url).labelValues("job", 1, ['{namespace="a"}']);
    expect(server.requests[0]?.pathAndQuery).toBe(
      "/api/v1/label/job/values?match%5B%5D=%7Bnamespace%3D%22a%22%7D&start=1",
    );
  });

  test("data that is not a list of strings is a bad_response", async () => {
    await using server = startCaptureServer(() => Response.json({ status: "success", data: ["a", 1] }));
    expect((await rejection(clientFor(server.url).labelValues("__name__", 1))).message).toBe(
      "bad_response: label values data[1]: expected a string, got number",
    );
  });
});
