import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { generateCertificateAuthority, generateSignedCertificate, type CertificateAndKey } from "./certificates.ts";
import { headerValuesOf } from "./raw-headers.ts";
import { startHttpsServer, type HttpsServer, type ServerErrorSource } from "./serve.ts";
import { isPeerTrustedBy, peerCertificateOf } from "./tls-peer.ts";

const now = new Date();
const DAY_MS = 24 * 3600_000;
const ca = generateCertificateAuthority({ commonName: "serve-test-ca", now });
const otherCa = generateCertificateAuthority({ commonName: "serve-test-other-ca", now });
const serving = generateSignedCertificate({
  ca,
  commonName: "localhost",
  dnsNames: ["localhost"],
  ipAddresses: ["127.0.0.1"],
  usage: "server",
  validityDays: 1,
  now,
});
const frontProxyClient = generateSignedCertificate({
  ca,
  commonName: "front-proxy-client",
  organizations: ["system:masters", "team, with comma"],
  usage: "client",
  validityDays: 1,
  now,
});
const strangerClient = generateSignedCertificate({
  ca: otherCa,
  commonName: "stranger",
  usage: "client",
  validityDays: 1,
  now,
});
const expiredClient = generateSignedCertificate({
  ca,
  commonName: "expired",
  usage: "client",
  validityDays: 1,
  notBefore: new Date(now.getTime() - 10 * DAY_MS),
  now,
});

type ReportedError = { source: ServerErrorSource; message: string };
type EchoReply = {
  peer?: { subjectCommonName: string; organizations: string[]; chainLength: number; verified: boolean };
};

/** What the echo handler saw, as JSON. */
async function echo(request: Request): Promise<Response> {
  const peer = peerCertificateOf(request);
  return Response.json({
    method: request.method,
    url: request.url,
    groups: headerValuesOf(request, "x-remote-group"),
    body: request.method === "GET" ? null : await request.text(),
    peer: peer && {
      subjectCommonName: peer.subjectCommonName,
      organizations: peer.organizations,
      chainLength: peer.chainDer.length,
      verified: isPeerTrustedBy(peer, ca.certPem, new Date()),
    },
  });
}

function handler(request: Request): Promise<Response> {
  const { pathname } = new URL(request.url);
  if (pathname === "/throw") throw new Error("boom");
  if (pathname === "/reject") return Promise.reject(new Error("async boom"));
  if (pathname === "/stream") {
    const encoder = new TextEncoder();
    const parts = ["first,", "second,", "third"];
    return Promise.resolve(
      new Response(
        new ReadableStream({
          pull(controller) {
            const part = parts.shift();
            if (part === undefined) controller.close();
            else controller.enqueue(encoder.encode(part));
          },
        }),
      ),
    );
  }
  return echo(request);
}

function withClient(client?: CertificateAndKey) {
  return { tls: { ca: ca.certPem, ...(client ? { cert: client.certPem, key: client.keyPem } : {}) } };
}

/** Sends `head` over a fresh TLS connection and returns everything the server wrote until it closed. */
function rawExchange(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca: ca.certPem, servername: "localhost" }, () =>
      socket.write(head),
    );
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (received += chunk));
    socket.on("close", () => resolve(received));
    socket.on("error", reject);
  });
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("the HTTPS listener", () => {
  let server: HttpsServer;
  const errors: ReportedError[] = [];
  beforeAll(async () => {
    server = await startHttpsServer({
      handle: handler,
      host: "127.0.0.1",
      port: 0,
      certPem: serving.certPem + ca.certPem,
      keyPem: serving.keyPem,
      clientCaPems: [ca.certPem],
      onError: (error, source) => errors.push({ source, message: error.message }),
    });
  });
  afterAll(() => server.close(0));
  const url = (path: string) => `https://127.0.0.1:${server.port}${path}`;

  test.each([
    { name: "localhost", options: { servername: "localhost" } },
    { name: "127.0.0.1", options: {} },
  ])("presents a serving certificate that verifies for $name", async ({ name, options }) => {
    const verified = await new Promise<{ authorized: boolean; identityError: string | undefined }>(
      (resolve, reject) => {
        const socket = tls.connect({ host: "127.0.0.1", port: server.port, ca: ca.certPem, ...options }, () => {
          const identityError = tls.checkServerIdentity(name, socket.getPeerCertificate())?.message;
          resolve({ authorized: socket.authorized, identityError });
          socket.destroy();
        });
        socket.on("error", reject);
      },
    );
    expect(verified).toEqual({ authorized: true, identityError: undefined });
  });

  test("answers a fetch that trusts the CA, with the full https URL", async () => {
    const response = await fetch(url("/apis/custom.metrics.k8s.io/v1beta1?labelSelector=app%3Dx"), withClient());
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      method: "GET",
      url: `https://127.0.0.1:${server.port}/apis/custom.metrics.k8s.io/v1beta1?labelSelector=app%3Dx`,
      groups: [],
      body: null,
      peer: undefined,
    });
  });

  test("shows a client certificate from the requested CA with its CN and organizations, and it verifies", async () => {
    const response = await fetch(url("/echo"), withClient(frontProxyClient));
    expect(((await response.json()) as EchoReply).peer).toEqual({
      subjectCommonName: "front-proxy-client",
      organizations: ["system:masters", "team, with comma"],
      chainLength: 2,
      verified: true,
    });
  });

  test("shows a client certificate from another CA, and it does not verify", async () => {
    const response = await fetch(url("/echo"), withClient(strangerClient));
    expect(((await response.json()) as EchoReply).peer).toEqual({
      subjectCommonName: "stranger",
      organizations: [],
      chainLength: 1,
      verified: false,
    });
  });

  test("shows an expired client certificate, and it does not verify", async () => {
    const response = await fetch(url("/echo"), withClient(expiredClient));
    expect(((await response.json()) as EchoReply).peer).toMatchObject({
      subjectCommonName: "expired",
      verified: false,
    });
  });

  test("has no peer certificate when the client sends none", async () => {
    const response = await fetch(url("/echo"), withClient());
    expect(((await response.json()) as EchoReply).peer).toBeUndefined();
  });

  test("keeps repeated headers as separate values, without splitting on commas", async () => {
    const reply = await rawExchange(
      server.port,
      "GET /echo HTTP/1.1\r\nHost: localhost\r\nX-Remote-Group: system:masters\r\nx-remote-group: a,b\r\nConnection: close\r\n\r\n",
    );
    const body = JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4));
    expect(body.groups).toEqual(["system:masters", "a,b"]);
  });

  test.each([
    { name: "a usable Host header", host: "metrics.example:8443", expected: "https://metrics.example:8443/echo?x=1" },
    { name: "a Host header too short for Elysia's router", host: "ab", expected: "https://127.0.0.1:PORT/echo?x=1" },
    { name: "a Host header with userinfo", host: "user@evil.example", expected: "https://127.0.0.1:PORT/echo?x=1" },
  ])("builds the request URL from $name", async ({ host, expected }) => {
    const reply = await rawExchange(
      server.port,
      `GET /echo?x=1 HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    );
    const body = JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4)) as { url: string };
    expect(body.url).toBe(expected.replace("PORT", String(server.port)));
  });

  test("passes a request body through", async () => {
    const response = await fetch(url("/echo"), { ...withClient(), method: "POST", body: "x".repeat(100_000) });
    expect(await response.json()).toMatchObject({ method: "POST", body: "x".repeat(100_000) });
  });

  test("streams a response body that arrives in several chunks", async () => {
    const response = await fetch(url("/stream"), withClient());
    expect(await response.text()).toBe("first,second,third");
  });

  test.each(["/throw", "/reject"])(
    "answers a 500 Status when the handler fails (%s) and keeps serving",
    async (path) => {
      const failed = await fetch(url(path), withClient());
      expect({
        status: failed.status,
        contentType: failed.headers.get("content-type"),
        body: await failed.json(),
      }).toEqual({
        status: 500,
        contentType: "application/json",
        body: {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: "Internal error occurred",
          reason: "InternalError",
          code: 500,
        },
      });
      expect(errors.filter((error) => error.source === "handler").length).toBeGreaterThan(0);
      expect((await fetch(url("/echo"), withClient())).status).toBe(200);
    },
  );

  test("reports plain HTTP on the TLS port as a handshake error and keeps serving", async () => {
    await expect(fetch(`http://127.0.0.1:${server.port}/echo`)).rejects.toThrow();
    expect(errors.some((error) => error.source === "tls-handshake")).toBe(true);
    expect((await fetch(url("/echo"), withClient())).status).toBe(200);
  });

  test("answers 431 to headers larger than the limit", async () => {
    const response = await fetch(url("/echo"), { ...withClient(), headers: { "x-large": "y".repeat(20_000) } });
    expect(response.status).toBe(431);
  });

  test("answers 400 to a request it cannot parse", async () => {
    expect(await rawExchange(server.port, "NOT HTTP\r\n\r\n")).toStartWith("HTTP/1.1 400 Bad Request");
  });
});

describe("an Elysia app behind the listener", () => {
  test("reads the peer certificate and raw headers of the request it is handed", async () => {
    const app = new Elysia().get("/whoami", ({ request }) => ({
      user: peerCertificateOf(request)?.subjectCommonName ?? null,
      groups: headerValuesOf(request, "x-remote-group"),
    }));
    const server = await startHttpsServer({
      handle: (request) => app.handle(request),
      host: "127.0.0.1",
      port: 0,
      certPem: serving.certPem,
      keyPem: serving.keyPem,
    });
    try {
      const response = await fetch(`https://127.0.0.1:${server.port}/whoami`, {
        ...withClient(frontProxyClient),
        headers: { "x-remote-group": "g" },
      });
      expect(await response.json()).toEqual({ user: "front-proxy-client", groups: ["g"] });
    } finally {
      await server.close(0);
    }
  });
});

describe("connection timeouts", () => {
  test("close a connection whose headers do not arrive in time", async () => {
    const server = await startHttpsServer({
      handle: handler,
      host: "127.0.0.1",
      port: 0,
      certPem: serving.certPem,
      keyPem: serving.keyPem,
      headersTimeoutMs: 50,
    });
    try {
      expect(await rawExchange(server.port, "GET /echo HTTP/1.1\r\nHost: local")).toBe("");
    } finally {
      await server.close(0);
    }
  });

  test("close an idle keep-alive connection after its response", async () => {
    const server = await startHttpsServer({
      handle: handler,
      host: "127.0.0.1",
      port: 0,
      certPem: serving.certPem,
      keyPem: serving.keyPem,
      keepAliveTimeoutMs: 50,
    });
    try {
      expect(await rawExchange(server.port, "GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n")).toStartWith(
        "HTTP/1.1 200",
      );
    } finally {
      await server.close(0);
    }
  });
});

describe("a client that goes away", () => {
  test("aborts the signal of its request", async () => {
    const entered = deferred();
    const aborted = deferred<boolean>();
    const server = await startHttpsServer({
      handle: (request) => {
        request.signal.addEventListener("abort", () => aborted.resolve(true));
        entered.resolve();
        return new Promise<Response>(() => {});
      },
      host: "127.0.0.1",
      port: 0,
      certPem: serving.certPem,
      keyPem: serving.keyPem,
    });
    try {
      const client = new AbortController();
      const inFlight = fetch(`https://127.0.0.1:${server.port}/wait`, { ...withClient(), signal: client.signal });
      await entered.promise;
      client.abort();
      await expect(inFlight).rejects.toThrow();
      expect(await aborted.promise).toBe(true);
    } finally {
      await server.close(0);
    }
  });
});

describe("updateTls", () => {
  test("serves new connections with the replaced certificate", async () => {
    const server = await startHttpsServer({
      handle: handler,
      host: "127.0.0.1",
      port: 0,
      certPem: serving.certPem,
      keyPem: serving.keyPem,
    });
    try {
      const replacement = generateSignedCertificate({
        ca: otherCa,
        commonName: "localhost",
        ipAddresses: ["127.0.0.1"],
        usage: "server",
        validityDays: 1,
        now,
      });
      server.updateTls({ certPem: replacement.certPem, keyPem: replacement.keyPem });
      const response = await fetch(`https://127.0.0.1:${server.port}/echo`, { tls: { ca: otherCa.certPem } });
      expect(response.status).toBe(200);
    } finally {
      await server.close(0);
    }
  });
});

describe("close", () => {
  test("lets an in-flight request finish, then stops accepting", async () => {
    const entered = deferred();
    const release = deferred();
    const server = await startHttpsServer({
      handle: async () => {
        entered.resolve();
        await release.promise;
        return new Response("finished");
      },
      host: "127.0.0.1",
      port: 0,
      certPem: serving.certPem,
      keyPem: serving.keyPem,
    });
    const inFlight = fetch(`https://127.0.0.1:${server.port}/slow`, withClient());
    await entered.promise;
    const closed = server.close(30_000);
    release.resolve();
    const response = await inFlight;
    expect({
      status: response.status,
      body: await response.text(),
      connection: response.headers.get("connection"),
    }).toEqual({
      status: 200,
      body: "finished",
      connection: "close",
    });
    await closed;
    await expect(fetch(`https://127.0.0.1:${server.port}/slow`, withClient())).rejects.toThrow();
  });

  test("destroys a request still running when the grace period ends", async () => {
    const entered = deferred();
    const server = await startHttpsServer({
      handle: async () => {
        entered.resolve();
        return new Promise<Response>(() => {});
      },
      host: "127.0.0.1",
      port: 0,
      certPem: serving.certPem,
      keyPem: serving.keyPem,
    });
    const inFlight = fetch(`https://127.0.0.1:${server.port}/never`, withClient());
    await entered.promise;
    await server.close(20);
    await expect(inFlight).rejects.toThrow();
  });
});

describe("kubectl", () => {
  const kubectl = "/usr/bin/kubectl";
  const home = mkdtempSync(join(tmpdir(), "prom-adapter-kubectl-"));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  test("get --raw reaches the handler", async () => {
    if (!existsSync(kubectl)) {
      console.log(`skipped: ${kubectl} is not installed`);
      return;
    }
    const seen: string[] = [];
    const server = await startHttpsServer({
      handle: async (request) => {
        seen.push(
          `${request.method} ${new URL(request.url).pathname} ${request.headers.get("user-agent")?.split("/")[0]} ${request.headers.get("authorization")}`,
        );
        return Response.json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 200 });
      },
      host: "127.0.0.1",
      port: 0,
      certPem: serving.certPem,
      keyPem: serving.keyPem,
      clientCaPems: [ca.certPem],
    });
    try {
      // NB: without any credentials this kubectl build prompts for a user name, so it gets a token.
      const args = [
        "get",
        "--raw",
        "/x",
        `--server=https://127.0.0.1:${server.port}`,
        "--insecure-skip-tls-verify",
        "--token=test-token",
      ];
      const child = Bun.spawn([kubectl, ...args], {
        env: { HOME: home, PATH: process.env.PATH ?? "/usr/bin:/bin" },
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      const [stdout, stderr, exitCode] = await Promise.all([
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
        child.exited,
      ]);
      expect({ exitCode, stderr, body: JSON.parse(stdout) }).toEqual({
        exitCode: 0,
        stderr: "",
        body: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 200 },
      });
      // NB: the google-cloud-sdk kubectl dispatcher asks for /version first to pick a kubectl release.
      expect(seen).toContain("GET /x kubectl Bearer test-token");
    } finally {
      await server.close(0);
    }
  });
});
