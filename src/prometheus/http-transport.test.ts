import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SCALAR_ENVELOPE, startCaptureServer } from "../../test/support/capture-server.ts";
import {
  generateCertificateAuthority,
  generateSignedCertificate,
  type CertificateAndKey,
} from "../server/certificates.ts";
import { PrometheusConfigError, PrometheusError } from "./errors.ts";
import { createHttpTransport, type HttpTransportOptions } from "./http-transport.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "prom-adapter-transport-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function transport(baseUrl: string, options: Partial<HttpTransportOptions> = {}) {
  return createHttpTransport({ baseUrl, ...options });
}

async function rejection(promise: Promise<unknown>): Promise<PrometheusError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof PrometheusError)) throw new Error(`expected a PrometheusError, got ${String(error)}`);
  return error;
}

describe("headers and credentials", () => {
  test("extra headers are sent, a list value as repeated headers", async () => {
    await using server = startCaptureServer();
    await transport(server.url, { headers: { "X-Scope-OrgID": "team-a", "X-Multi": ["1", "2"] } }).request("query", {
      query: "up",
    });
    const { headers } = server.requests[0]!;
    expect({ org: headers["x-scope-orgid"], multi: headers["x-multi"], authorization: headers.authorization }).toEqual({
      org: "team-a",
      multi: "1, 2",
      authorization: undefined,
    });
  });

  test("the bearer token file is sent trimmed and re-read when it changes", async () => {
    await using server = startCaptureServer();
    const tokenFile = file("token", "first-token\n");
    const prometheus = transport(server.url, { bearerTokenFile: tokenFile });
    await prometheus.request("query", { query: "up" });
    writeFileSync(tokenFile, "second-token");
    await prometheus.request("query", { query: "up" });
    expect(server.requests.map(({ headers }) => headers.authorization)).toEqual([
      "Bearer first-token",
      "Bearer second-token",
    ]);
  });

  test("the last good token is kept while the token file is missing or empty", async () => {
    await using server = startCaptureServer();
    const tokenFile = file("token-gone", "kept-token");
    const prometheus = transport(server.url, { bearerTokenFile: tokenFile });
    writeFileSync(tokenFile, "");
    await prometheus.request("query", { query: "up" });
    rmSync(tokenFile);
    await prometheus.request("query", { query: "up" });
    expect(server.requests.map(({ headers }) => headers.authorization)).toEqual([
      "Bearer kept-token",
      "Bearer kept-token",
    ]);
  });

  test("an explicit Authorization header wins over the token file", async () => {
    await using server = startCaptureServer();
    await transport(server.url, {
      headers: { authorization: "Custom abc" },
      bearerTokenFile: file("token-ignored", "t"),
    }).request("query", {});
    expect(server.requests[0]!.headers.authorization).toBe("Custom abc");
  });

  test("credentials in the URL become basic auth and stay out of baseUrl and error URLs", async () => {
    await using server = startCaptureServer(() => new Response("nope", { status: 401 }));
    const prometheus = transport(server.url.replace("http://", "http://user:p%40ss@"));
    const error = await rejection(prometheus.request("query", {}));
    expect({
      authorization: server.requests[0]!.headers.authorization,
      baseUrl: prometheus.baseUrl,
      errorUrl: error.url,
      message: error.message,
    }).toEqual({
      authorization: `Basic ${Buffer.from("user:p@ss").toString("base64")}`,
      baseUrl: server.url,
      errorUrl: `${server.url}/api/v1/query`,
      message: "bad_response: unknown response code 401",
    });
  });

  test("a token echoed in a non-JSON body is redacted from the error message", async () => {
    await using server = startCaptureServer(
      ({ headers }) =>
        new Response(`<html>denied for ${headers.authorization}</html>`, { headers: { "content-type": "text/html" } }),
    );
    const error = await rejection(
      transport(server.url, { bearerTokenFile: file("token-secret", "s3cr3t-token") }).request("query", {}),
    );
    expect(error.message).not.toContain("s3cr3t-token");
    expect(error.message).toContain("<html>denied for Bearer <redacted></html>");
  });
});

describe("response envelope", () => {
  test.each([200, 202, 400, 422, 503])("status %d with a success envelope gives its data", async (status) => {
    await using server = startCaptureServer(() => Response.json(SCALAR_ENVELOPE, { status }));
    expect(await transport(server.url).request("query", {})).toEqual(SCALAR_ENVELOPE.data);
  });

  test.each([
    {
      name: "status:error on 400 is `<errorType>: <error>`",
      status: 400,
      errorType: "bad_data",
      error: "parse error",
      message: "bad_data: parse error",
    },
    {
      name: "status:error on 422",
      status: 422,
      errorType: "execution",
      error: "many-to-many matching not allowed",
      message: "execution: many-to-many matching not allowed",
    },
    {
      name: "status:error on 503",
      status: 503,
      errorType: "timeout",
      error: "query timed out in expression evaluation",
      message: "timeout: query timed out in expression evaluation",
    },
    { name: "status:error on 200", status: 200, errorType: "internal", error: "boom", message: "internal: boom" },
  ])("$name", async ({ status, errorType, error, message }) => {
    await using server = startCaptureServer(() => Response.json({ status: "error", errorType, error }, { status }));
    const failure = await rejection(transport(server.url).request("query", {}));
    expect({
      kind: failure.kind,
      message: failure.message,
      errorType: failure.errorType,
      statusCode: failure.statusCode,
    }).toEqual({ kind: "api", message, errorType, statusCode: status });
  });

  test.each([304, 401, 404, 418, 500, 502])(
    "status %d is `bad_response: unknown response code <n>` even with an envelope",
    async (status) => {
      await using server = startCaptureServer(() =>
        Response.json({ status: "error", errorType: "x", error: "y" }, { status }),
      );
      const failure = await rejection(transport(server.url).request("query", {}));
      expect({ kind: failure.kind, message: failure.message, statusCode: failure.statusCode }).toEqual({
        kind: "bad_response",
        message: `bad_response: unknown response code ${status}`,
        statusCode: status,
      });
    },
  );

  test.each([
    {
      name: "an HTML page",
      body: "<html><body>Bad gateway</body></html>",
      type: "text/html",
      contains:
        "response is not valid JSON (37 bytes of text/html): JSON Parse error: Unrecognized token '<'; body starts with \"<html><body>Bad gateway</body></html>\"",
    },
    {
      name: "truncated JSON",
      body: '{"status":"success","data":{"resultType":"vec',
      type: "application/json",
      contains: "response is not valid JSON (45 bytes of application/json): JSON Parse error: Unterminated string",
    },
    { name: "an empty body", body: "", type: "", contains: "response is not valid JSON (0 bytes" },
    {
      name: "JSON that is not an envelope",
      body: '{"hello":"world"}',
      type: "application/json",
      contains:
        'response is not a Prometheus API envelope (17 bytes of application/json); body starts with "{\\"hello\\":\\"world\\"}"',
    },
    {
      name: "a success envelope without data",
      body: '{"status":"success"}',
      type: "application/json",
      contains: "response is not a Prometheus API envelope",
    },
  ])("$name is a bad_response that says what arrived", async ({ body, type, contains }) => {
    await using server = startCaptureServer(
      () => new Response(body, { headers: type === "" ? {} : { "content-type": type } }),
    );
    const failure = await rejection(transport(server.url).request("query", {}));
    expect(failure.kind).toBe("bad_response");
    expect(failure.message).toStartWith("bad_response: ");
    expect(failure.message).toContain(contains);
  });

  test("a redirect is followed, as Go's client does", async () => {
    await using server = startCaptureServer(({ pathAndQuery }) =>
      pathAndQuery.startsWith("/old/")
        ? new Response(null, { status: 302, headers: { location: pathAndQuery.replace("/old/", "/new/") } })
        : Response.json(SCALAR_ENVELOPE),
    );
    expect(await transport(`${server.url}/old`).request("query", { query: "up" })).toEqual(SCALAR_ENVELOPE.data);
    expect(server.requests.map(({ pathAndQuery }) => pathAndQuery)).toEqual([
      "/old/api/v1/query?query=up",
      "/new/api/v1/query?query=up",
    ]);
  });

  test("a long non-JSON body is cut in the message", async () => {
    await using server = startCaptureServer(() => new Response("x".repeat(10_000)));
    const failure = await rejection(transport(server.url).request("query", {}));
    expect(failure.message).toEndWith(`"${"x".repeat(120)}…"`);
  });
});

describe("connection closed in the middle of the body", () => {
  let raw: Server;
  let port = 0;
  beforeAll(async () => {
    raw = createServer((socket) => {
      socket.once("data", () => {
        socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"status":"succ');
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
    port = (raw.address() as { port: number }).port;
  });
  afterAll(() => raw.close());

  test("is a bad_response about reading the body", async () => {
    const failure = await rejection(transport(`http://127.0.0.1:${port}`).request("query", {}));
    expect({ kind: failure.kind, statusCode: failure.statusCode }).toEqual({ kind: "bad_response", statusCode: 200 });
    expect(failure.message).toStartWith("bad_response: reading the response body failed: ");
  });
});

describe("limits", () => {
  test("a server that never answers times out with kind timeout", async () => {
    await using server = startCaptureServer(() => new Promise<Response>(() => {}));
    const failure = await rejection(transport(server.url, { timeoutMs: 100 }).request("query", {}));
    expect({ kind: failure.kind, message: failure.message, endpoint: failure.endpoint }).toEqual({
      kind: "timeout",
      message: "timeout: no complete response within 100 ms",
      endpoint: "query",
    });
  });

  test("a body that stops half-way times out too", async () => {
    await using server = startCaptureServer(
      () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode('{"status":'));
            },
          }),
        ),
    );
    const failure = await rejection(transport(server.url).request("query", {}, { timeoutMs: 100 }));
    expect(failure.kind).toBe("timeout");
  });

  test("the caller's abort rejects with the caller's reason, not a PrometheusError", async () => {
    await using server = startCaptureServer(() => new Promise<Response>(() => {}));
    const controller = new AbortController();
    const pending = transport(server.url).request("query", {}, { signal: controller.signal });
    const reason = new Error("shutting down");
    controller.abort(reason);
    expect(await pending.catch((error: unknown) => error)).toBe(reason);
  });

  test.each([
    { name: "with Content-Length", streamed: false },
    { name: "streamed without Content-Length", streamed: true },
  ])("a body over maxBodyBytes is too_large ($name)", async ({ streamed }) => {
    const big = JSON.stringify({ status: "success", data: "x".repeat(5000) });
    await using server = startCaptureServer(() =>
      streamed
        ? new Response(
            new ReadableStream({
              pull(controller) {
                controller.enqueue(new TextEncoder().encode(big));
                controller.close();
              },
            }),
          )
        : new Response(big),
    );
    const failure = await rejection(transport(server.url, { maxBodyBytes: 4096 }).request("series", {}));
    expect({ kind: failure.kind, message: failure.message }).toEqual({
      kind: "too_large",
      message: "too_large: response body exceeds 4096 bytes",
    });
    expect(await transport(server.url, { maxBodyBytes: 0 }).request("series", {})).toBe("x".repeat(5000));
  });
});

describe("TLS", () => {
  let ca: CertificateAndKey;
  let serverPair: CertificateAndKey;
  let clientPair: CertificateAndKey;
  beforeAll(() => {
    const now = new Date();
    ca = generateCertificateAuthority({ commonName: "test-ca", now });
    serverPair = generateSignedCertificate({
      ca,
      commonName: "prometheus",
      ipAddresses: ["127.0.0.1"],
      dnsNames: ["prometheus.test"],
      usage: "server",
      validityDays: 1,
      now,
    });
    clientPair = generateSignedCertificate({ ca, commonName: "prom-adapter", usage: "client", validityDays: 1, now });
  });

  function tlsServer(requireClientCert: boolean) {
    return startCaptureServer(undefined, {
      cert: serverPair.certPem,
      key: serverPair.keyPem,
      ...(requireClientCert ? { ca: ca.certPem, requestCert: true, rejectUnauthorized: true } : {}),
    });
  }

  test("caFile makes the server certificate trusted; without it the handshake fails (network)", async () => {
    await using server = tlsServer(false);
    expect(await transport(server.url, { caFile: file("ca.pem", ca.certPem) }).request("query", {})).toEqual(
      SCALAR_ENVELOPE.data,
    );
    const failure = await rejection(transport(server.url).request("query", {}));
    expect(failure.kind).toBe("network");
  });

  test("the client certificate is presented for mutual TLS", async () => {
    await using server = tlsServer(true);
    const withCert = transport(server.url, {
      caFile: file("ca.pem", ca.certPem),
      clientCertFile: file("client.pem", clientPair.certPem),
      clientKeyFile: file("client-key.pem", clientPair.keyPem),
    });
    expect(await withCert.request("query", {})).toEqual(SCALAR_ENVELOPE.data);
    const failure = await rejection(transport(server.url, { caFile: file("ca.pem", ca.certPem) }).request("query", {}));
    expect(failure.kind).toBe("network");
  });

  test("an auth config supplies CA, client certificate and token", async () => {
    await using server = tlsServer(true);
    const b64 = (text: string) => Buffer.from(text).toString("base64");
    const authConfigFile = file(
      "kubeconfig.yaml",
      [
        "apiVersion: v1",
        "kind: Config",
        "current-context: prom",
        "contexts:",
        "- name: prom",
        "  context: {cluster: prom, user: adapter}",
        "clusters:",
        "- name: prom",
        "  cluster:",
        "    server: https://ignored.example:1",
        `    certificate-authority-data: ${b64(ca.certPem)}`,
        "users:",
        "- name: adapter",
        "  user:",
        "    token: kube-token",
        `    client-certificate-data: ${b64(clientPair.certPem)}`,
        `    client-key-data: ${b64(clientPair.keyPem)}`,
      ].join("\n"),
    );
    await transport(server.url, { authConfigFile }).request("query", {});
    expect(server.requests.map(({ headers }) => headers.authorization)).toEqual(["Bearer kube-token"]);
  });

  test("an auth config's insecure-skip-tls-verify accepts an untrusted server", async () => {
    await using server = tlsServer(false);
    const authConfigFile = file(
      "kubeconfig-insecure.yaml",
      "current-context: c\ncontexts: [{name: c, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {username: me, password: pw}}]\n",
    );
    await transport(server.url, { authConfigFile }).request("query", {});
    expect(server.requests.map(({ headers }) => headers.authorization)).toEqual([
      `Basic ${Buffer.from("me:pw").toString("base64")}`,
    ]);
  });

  test("an auth config's tls-server-name is the name checked in the server certificate", async () => {
    await using server = tlsServer(false);
    const b64ca = Buffer.from(ca.certPem).toString("base64");
    const config = (name: string) =>
      file(
        `kubeconfig-${name}.yaml`,
        `current-context: c\ncontexts: [{name: c, context: {cluster: c}}]\nclusters: [{name: c, cluster: {certificate-authority-data: ${b64ca}, tls-server-name: ${name}}}]\n`,
      );
    expect(
      await transport(server.url.replace("127.0.0.1", "localhost"), {
        authConfigFile: config("prometheus.test"),
      }).request("query", {}),
    ).toEqual(SCALAR_ENVELOPE.data);
    expect(
      (await rejection(transport(server.url, { authConfigFile: config("other.test") }).request("query", {}))).kind,
    ).toBe("network");
  });
});

describe("configuration errors", () => {
  test.each([
    {
      name: "a missing token file",
      options: { bearerTokenFile: "/nonexistent/token" },
      message: 'cannot read bearer token file "/nonexistent/token"',
    },
    { name: "an empty token file", options: { bearerTokenFile: "EMPTY" }, message: "is empty" },
    {
      name: "a missing CA file",
      options: { caFile: "/nonexistent/ca.pem" },
      message: 'cannot read Prometheus CA file "/nonexistent/ca.pem"',
    },
    {
      name: "a client certificate without key",
      options: { clientCertFile: "/x.pem" },
      message: "client certificate and key files must be given together",
    },
    {
      name: "a missing auth config",
      options: { authConfigFile: "/nonexistent/kubeconfig" },
      message: 'prometheus auth config "/nonexistent/kubeconfig"',
    },
    {
      name: "a URL that is not http(s)",
      options: { baseUrl: "ftp://prometheus" },
      message: "scheme must be http or https",
    },
    { name: "an invalid URL", options: { baseUrl: "not a url" }, message: 'invalid Prometheus URL "not a url"' },
  ])("$name fails at creation with PrometheusConfigError", ({ options, message }) => {
    const resolved =
      options.bearerTokenFile === "EMPTY" ? { ...options, bearerTokenFile: file("empty-token", "  \n") } : options;
    let thrown: unknown;
    try {
      createHttpTransport({ baseUrl: "http://127.0.0.1:9090", ...resolved });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PrometheusConfigError);
    expect((thrown as Error).message).toContain(message);
  });
});
