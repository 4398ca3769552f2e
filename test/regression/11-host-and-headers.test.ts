/**
 * Issue 11 finding 5 and the response hardening headers: a Host header `new URL` rejects is a 400 Status (it was a
 * 500), and every answer carries kube-apiserver's `Cache-Control: no-cache, private` (unless the handler set its
 * own) and `X-Content-Type-Options: nosniff`. Real TLS, real listener.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import tls from "node:tls";
import { generateCertificateAuthority, generateSignedCertificate } from "../../src/server/certificates.ts";
import { startHttpsServer, type HttpsServer } from "../../src/server/serve.ts";

const now = new Date();
const ca = generateCertificateAuthority({ commonName: "host-test-ca", now });
const serving = generateSignedCertificate({
  ca,
  commonName: "localhost",
  ipAddresses: ["127.0.0.1"],
  usage: "server",
  validityDays: 1,
  now,
});
let server: HttpsServer;
const errors: string[] = [];

beforeAll(async () => {
  server = await startHttpsServer({
    host: "127.0.0.1",
    port: 0,
    certPem: serving.certPem,
    keyPem: serving.keyPem,
    onError: (error, source) => errors.push(`${source}: ${error.name}`),
    handle: async (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/throw") throw new Error("boom");
      if (pathname === "/cached") return new Response("x", { headers: { "cache-control": "max-age=5" } });
      return Response.json({ host: new URL(request.url).host });
    },
  });
});
afterAll(() => server.close(0));

/** Sends one raw request and returns the status, the lower-cased headers and the body. */
function rawRequest(head: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port: server.port, rejectUnauthorized: false });
    socket.once("secureConnect", () => socket.write(head));
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      const lines = text.slice(0, end).split("\r\n");
      const headers = Object.fromEntries(
        lines.slice(1).map((line) => {
          const colon = line.indexOf(":");
          return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
        }),
      );
      const length = Number(headers["content-length"] ?? "0");
      if (text.length < end + 4 + length) return;
      socket.destroy();
      resolve({ status: Number(lines[0]!.split(" ")[1]), headers, body: text.slice(end + 4, end + 4 + length) });
    });
    socket.on("error", reject);
  });
}

describe("malformed Host headers", () => {
  const malformed = ["[:]", "[1]", "abc:99999", "[::1]:70000"];
  test.each(malformed)("Host: %s is answered 400 with a Status, not 500", async (host) => {
    const response = await rawRequest(`GET /apis HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect({ status: response.status, body: JSON.parse(response.body) as unknown }).toEqual({
      status: 400,
      body: expect.objectContaining({ kind: "Status", reason: "BadRequest", code: 400 }),
    });
  });

  test("a usable Host is kept", async () => {
    const response = await rawRequest("GET /apis HTTP/1.1\r\nHost: [::1]:6443\r\nConnection: close\r\n\r\n");
    expect({ status: response.status, body: response.body }).toEqual({
      status: 200,
      body: JSON.stringify({ host: "[::1]:6443" }),
    });
  });
});

describe("response hardening headers", () => {
  test.each([
    ["a 200", "/apis", "no-cache, private"],
    ["a 500 from a handler that threw", "/throw", "no-cache, private"],
    ["a handler that set its own Cache-Control", "/cached", "max-age=5"],
    ["a 400 for a malformed Host", "/apis", "no-cache, private"],
  ])("%s carries Cache-Control and X-Content-Type-Options: nosniff", async (name, path, cacheControl) => {
    const host = name.includes("malformed") ? "[:]" : "127.0.0.1";
    const response = await rawRequest(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    const { "cache-control": actualCacheControl, "x-content-type-options": nosniff } = response.headers;
    expect({ cacheControl: actualCacheControl, nosniff }).toEqual({
      cacheControl,
      nosniff: "nosniff",
    });
  });
});
