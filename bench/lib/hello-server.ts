/**
 * The HTTP floor: a bare `Bun.serve` answering a tiny JSON hello-world over TLS with the given certificate, in its
 * own process. `bun run hello-server.ts <cert.pem> <key.pem>` prints the port.
 */
const [certFile, keyFile] = process.argv.slice(2);
if (certFile === undefined || keyFile === undefined) throw new Error("usage: hello-server.ts <cert.pem> <key.pem>");
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  tls: { cert: Bun.file(certFile), key: Bun.file(keyFile) },
  fetch: () => new Response('{"hello":"world"}', { headers: { "content-type": "application/json" } }),
});
process.stdout.write(`${server.port}\n`);
