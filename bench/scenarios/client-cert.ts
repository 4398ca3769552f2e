/**
 * CPU the listener spends on a client certificate: per request on one keep-alive connection, and per handshake (a
 * new connection for each request), with no certificate, with a valid client certificate, and with a leaf followed by
 * 300 self-made CA certificates that all carry the client CA's subject name (the chain-length attack of issue 11).
 * The server runs in its own process (bench/lib/client-cert-server.ts); its CPU time (user + system, from
 * /proc/<pid>/stat) is read before and after each batch, so the client's own work is not counted.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import tls from "node:tls";
import {
  CA_EXTENSIONS,
  CLIENT_EXTENSIONS,
  createOpensslPki,
  type OpensslCertificate,
} from "../../test/support/openssl-pki.ts";
import { REPO_ROOT } from "../lib/adapter-process.ts";

/** CPU per request and per handshake for one kind of client, in ms of server CPU. */
export interface ClientCertRow {
  readonly client: string;
  /** Server CPU per request on one keep-alive connection, ms. */
  readonly cpuPerRequestMs: number;
  /** Server CPU per connection (handshake + one request), ms. */
  readonly cpuPerHandshakeMs: number;
  /** HTTP status the requests got. */
  readonly status: number;
}

export interface ClientCertResult {
  readonly rows: ClientCertRow[];
}

const CLOCK_TICKS_PER_SECOND = 100;

function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm) ".
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Sends `count` GETs one after another on one TLS connection; resolves with the last status. */
type Credentials = { cert?: string; key?: string };

function requestsOnOneConnection(port: number, credentials: Credentials, count: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...credentials });
    let sent = 0;
    let buffer = "";
    let status = 0;
    const sendNext = () => {
      sent += 1;
      socket.write("GET /whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Remote-User: bench\r\n\r\n");
    };
    socket.once("secureConnect", sendNext);
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      for (;;) {
        const headerEnd = buffer.indexOf("\r\n\r\n");
        if (headerEnd < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(buffer.slice(0, headerEnd))?.[1] ?? "0");
        if (buffer.length < headerEnd + 4 + length) return;
        status = Number(buffer.slice(9, 12));
        buffer = buffer.slice(headerEnd + 4 + length);
        if (sent === count) {
          socket.end();
          resolve(status);
          return;
        }
        sendNext();
      }
    });
    socket.on("error", reject);
  });
}

export async function measureClientCert({ requests = 200, handshakes = 50 } = {}): Promise<ClientCertResult> {
  const pki = createOpensslPki();
  const clientCa = pki.issue({ subject: "/CN=ca", extensions: CA_EXTENSIONS });
  const frontProxyCa = pki.issue({ subject: "/CN=bench-front-proxy-ca", extensions: CA_EXTENSIONS });
  const serving = pki.issue({
    subject: "/CN=localhost",
    issuer: clientCa,
    extensions: ["basicConstraints=critical,CA:FALSE", "extendedKeyUsage=serverAuth", "subjectAltName=IP:127.0.0.1"],
  });
  const user = pki.issue({ subject: "/CN=bench-user", issuer: clientCa, extensions: CLIENT_EXTENSIONS });
  const padding = pki.lookAlikeCas("/CN=ca", 300);
  const attacker = pki.issue({
    subject: "/CN=attacker/O=system:masters",
    issuer: padding.at(-1)!,
    extensions: CLIENT_EXTENSIONS,
  });
  pki.close();
  const chainOf = (leaf: OpensslCertificate, rest: OpensslCertificate[] = []) => ({
    cert: [leaf, ...rest].map((entry) => entry.certPem).join(""),
    key: leaf.keyPem,
  });
  const clients: Array<[string, Credentials]> = [
    ["no certificate", {}],
    ["valid client certificate", chainOf(user)],
    ["leaf + 300 look-alike CAs", chainOf(attacker, padding)],
  ];

  const server = Bun.spawn(
    [
      process.execPath,
      "run",
      join(REPO_ROOT, "bench", "lib", "client-cert-server.ts"),
      JSON.stringify({
        certPem: serving.certPem,
        keyPem: serving.keyPem,
        clientCaPem: clientCa.certPem,
        frontProxyCaPem: frontProxyCa.certPem,
      }),
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  try {
    const reader = server.stdout.getReader();
    let output = "";
    while (!/port=\d+\n/.test(output)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`client-cert server exited: ${output}`);
      output += new TextDecoder().decode(value);
    }
    const port = Number(/port=(\d+)/.exec(output)![1]);
    const rows: ClientCertRow[] = [];
    for (const [client, credentials] of clients) {
      await requestsOnOneConnection(port, credentials, 5); // warm-up
      let before = cpuMsOf(server.pid);
      const status = await requestsOnOneConnection(port, credentials, requests);
      const cpuPerRequestMs = (cpuMsOf(server.pid) - before) / requests;
      before = cpuMsOf(server.pid);
      for (let index = 0; index < handshakes; index++) await requestsOnOneConnection(port, credentials, 1);
      const cpuPerHandshakeMs = (cpuMsOf(server.pid) - before) / handshakes;
      rows.push({ client, cpuPerRequestMs, cpuPerHandshakeMs, status });
    }
    return { rows };
  } finally {
    server.kill();
    await server.exited;
  }
}

if (import.meta.main) {
  const result = await measureClientCert();
  for (const row of result.rows) {
    const perRequest = `${row.cpuPerRequestMs.toFixed(3)} ms/request`;
    const perHandshake = `${row.cpuPerHandshakeMs.toFixed(3)} ms/handshake`;
    process.stdout.write(`${row.client}: ${perRequest}, ${perHandshake}, status ${row.status}\n`);
  }
}
