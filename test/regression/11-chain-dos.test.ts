/**
 * Issue 11, findings 1 and 2 (and issue 18's survivor 1): client certificate chains are verified by the TLS
 * handshake, once per connection, exactly where Go's x509.Verify with KeyUsages [ClientAuth] refuses them. Every
 * chain is made per run with the real openssl CLI and sent over real TLS to the real listener and authenticator,
 * through the client-CA path (x509 user) and the front-proxy path (X-Remote-* headers).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import tls from "node:tls";
import type { AuthenticationConfig } from "../../src/kubernetes/authentication-config.ts";
import { ApiError } from "../../src/apimachinery/status.ts";
import { createAuthenticator } from "../../src/server/authn.ts";
import { startHttpsServer, type HttpsServer } from "../../src/server/serve.ts";
import { peerCertificateOf, type PeerCertificate } from "../../src/server/tls-peer.ts";
import { CA_EXTENSIONS, CLIENT_EXTENSIONS, createOpensslPki, type OpensslCertificate } from "../support/openssl-pki.ts";

const HOUR_MS = 3600_000;
const pki = createOpensslPki();
const clientCa = pki.issue({ subject: "/CN=kubernetes", extensions: CA_EXTENSIONS });
const frontProxyCa = pki.issue({ subject: "/CN=front-proxy-ca", extensions: CA_EXTENSIONS });
const serving = pki.issue({
  subject: "/CN=localhost",
  issuer: clientCa,
  extensions: ["basicConstraints=critical,CA:FALSE", "extendedKeyUsage=serverAuth", "subjectAltName=IP:127.0.0.1"],
});

type Chain = { certificates: OpensslCertificate[] };
const chain = (...certificates: OpensslCertificate[]): Chain => ({ certificates });

/** The crafted chains under `root`, each named by what it tries; the leaf of each claims system:masters. */
function chainsUnder(root: OpensslCertificate, rootSubject: string) {
  type Validity = { notBefore?: Date; notAfter?: Date };
  const leaf = (issuer: OpensslCertificate, extensions = CLIENT_EXTENSIONS, times: Validity = {}) =>
    pki.issue({ subject: "/CN=deep-admin/O=system:masters", issuer, extensions, ...times });
  const pathLenZero = pki.issue({
    subject: "/CN=pathlen-zero",
    issuer: root,
    extensions: ["basicConstraints=critical,CA:TRUE,pathlen:0", "keyUsage=critical,keyCertSign,cRLSign"],
  });
  const subUnderPathLen = pki.issue({ subject: "/CN=sub-ca", issuer: pathLenZero, extensions: CA_EXTENSIONS });
  const notCa = pki.issue({
    subject: "/CN=not-a-ca",
    issuer: root,
    extensions: ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,keyCertSign"],
  });
  const subUnderNotCa = pki.issue({ subject: "/CN=sub-under-not-ca", issuer: notCa, extensions: CA_EXTENSIONS });
  // What the Kubernetes CSR signer issues for "client auth": CA:false and no keyUsage extension at all.
  const csrLeaf = pki.issue({
    subject: "/CN=csr-user",
    issuer: root,
    extensions: ["basicConstraints=critical,CA:FALSE", "extendedKeyUsage=clientAuth"],
  });
  const forgedAdmin = pki.issue({
    subject: "/CN=admin/O=system:masters",
    issuer: csrLeaf,
    extensions: CLIENT_EXTENSIONS,
  });
  const constrained = pki.issue({
    subject: "/CN=constrained-ca",
    issuer: root,
    extensions: [...CA_EXTENSIONS, "nameConstraints=critical,permitted;DNS:example.com"],
  });
  const hoursFromNow = (hours: number) => new Date(Date.now() + hours * HOUR_MS);
  const evil = pki.issue({ subject: rootSubject, extensions: CA_EXTENSIONS });
  const padding = pki.lookAlikeCas(rootSubject, 300);
  const attacker = leaf(padding.at(-1)!);
  return {
    valid: chain(leaf(root)),
    validWithoutEku: chain(leaf(root, ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature"])),
    pathLenViolation: chain(leaf(subUnderPathLen), subUnderPathLen, pathLenZero),
    subCaUnderNotCa: chain(leaf(subUnderNotCa), subUnderNotCa, notCa),
    leafAsIntermediate: chain(forgedAdmin, csrLeaf),
    unknownCriticalExtension: chain(leaf(root, [...CLIENT_EXTENSIONS, "1.3.6.1.4.1.55555.1=critical,DER:05:00"])),
    nameConstraintViolation: chain(
      leaf(constrained, [...CLIENT_EXTENSIONS, "subjectAltName=DNS:evil.org"]),
      constrained,
    ),
    expired: chain(leaf(root, CLIENT_EXTENSIONS, { notBefore: hoursFromNow(-48), notAfter: hoursFromNow(-24) })),
    notYetValid: chain(leaf(root, CLIENT_EXTENSIONS, { notBefore: hoursFromNow(24), notAfter: hoursFromNow(48) })),
    serverAuthOnly: chain(leaf(root, [...CLIENT_EXTENSIONS.slice(0, 2), "extendedKeyUsage=serverAuth"])),
    lookAlikes20: chain(attacker, ...padding.slice(-19)),
    lookAlikes100: chain(attacker, ...padding.slice(-99)),
    lookAlikes300: chain(attacker, ...padding),
    evilCaSameName: chain(leaf(evil), evil),
  };
}

const underClientCa = chainsUnder(clientCa, "/CN=kubernetes");
const underFrontProxyCa = chainsUnder(frontProxyCa, "/CN=front-proxy-ca");
const rotatedClientCa = pki.issue({ subject: "/CN=kubernetes", extensions: CA_EXTENSIONS });
const rotatedUser = pki.issue({ subject: "/CN=rotated-user", issuer: rotatedClientCa, extensions: CLIENT_EXTENSIONS });
// A client CA that arrives while a connection is open (the ConfigMap is re-read every minute).
const lateClientCa = pki.issue({ subject: "/CN=kubernetes", extensions: CA_EXTENSIONS });
const lateUser = pki.issue({ subject: "/CN=late-user", issuer: lateClientCa, extensions: CLIENT_EXTENSIONS });
pki.close();

let config: AuthenticationConfig = {
  clientCaPem: clientCa.certPem,
  requestHeader: {
    caPem: frontProxyCa.certPem,
    allowedNames: [],
    usernameHeaders: ["x-remote-user"],
    uidHeaders: [],
    groupHeaders: ["x-remote-group"],
    extraHeaderPrefixes: [],
  },
};
const authenticate = createAuthenticator({ config: () => config, tokenReviewer: { review: async () => null } });
const peersSeen: PeerCertificate[] = [];
let server: HttpsServer;

beforeAll(async () => {
  server = await startHttpsServer({
    host: "127.0.0.1",
    port: 0,
    certPem: serving.certPem,
    keyPem: serving.keyPem,
    clientCaPems: [clientCa.certPem, frontProxyCa.certPem],
    handle: async (request) => {
      const peer = peerCertificateOf(request);
      if (peer) peersSeen.push(peer);
      try {
        const user = await authenticate(request);
        return Response.json({ username: user.username, groups: user.groups });
      } catch (error) {
        return new Response(null, { status: error instanceof ApiError ? error.code : 500 });
      }
    },
  });
});
afterAll(() => server.close(0));

/** Sends `count` GETs on one TLS connection presenting `presented` and claiming admin in X-Remote-* headers. */
function ask(presented: Chain, count = 1): Promise<Array<{ status: number; body: string }>> {
  const [leaf] = presented.certificates;
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port: server.port,
      rejectUnauthorized: false,
      cert: presented.certificates.map((entry) => entry.certPem).join(""),
      key: leaf!.keyPem,
    });
    const answers: Array<{ status: number; body: string }> = [];
    let buffer = "";
    const claimAdmin = "X-Remote-User: admin\r\nX-Remote-Group: system:masters\r\n";
    const send = () => socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${claimAdmin}\r\n`);
    socket.once("secureConnect", send);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(buffer.slice(0, end))?.[1] ?? "0");
        if (buffer.length < end + 4 + length) return;
        answers.push({ status: Number(buffer.slice(9, 12)), body: buffer.slice(end + 4, end + 4 + length) });
        buffer = buffer.slice(end + 4 + length);
        if (answers.length === count) {
          socket.end();
          resolve(answers);
          return;
        }
        send();
      }
    });
    socket.on("error", reject);
  });
}

async function userOf(presented: Chain): Promise<string | number> {
  const [answer] = await ask(presented);
  return answer!.status === 200 ? (JSON.parse(answer!.body) as { username: string }).username : answer!.status;
}

const REFUSED: Array<[string, keyof ReturnType<typeof chainsUnder>]> = [
  ["a chain through a pathlen:0 CA to a sub-CA", "pathLenViolation"],
  ["a sub-CA signed by a CA:FALSE certificate", "subCaUnderNotCa"],
  [
    "a leaf (CA:false, no keyUsage) sent as an intermediate does not vouch for the certificate it signed",
    "leafAsIntermediate",
  ],
  ["a leaf with an unknown critical extension", "unknownCriticalExtension"],
  ["a leaf outside its CA's name constraints", "nameConstraintViolation"],
  ["an expired leaf", "expired"],
  ["a leaf not valid yet", "notYetValid"],
  ["a leaf whose only extended key usage is serverAuth", "serverAuthOnly"],
  ["a leaf with 20 look-alike CAs", "lookAlikes20"],
  ["a leaf with 100 look-alike CAs", "lookAlikes100"],
  ["a leaf with 300 look-alike CAs", "lookAlikes300"],
  ["a leaf of an evil CA with the trusted CA's subject name, sent along", "evilCaSameName"],
];

describe("x509 client certificates: refused exactly where Go's x509.Verify refuses them", () => {
  test("a valid client certificate authenticates as its CN", async () => {
    expect(await userOf(underClientCa.valid)).toBe("deep-admin");
  });
  test("a client certificate with no extended key usage is accepted, as Go accepts it", async () => {
    expect(await userOf(underClientCa.validWithoutEku)).toBe("deep-admin");
  });
  test.each(REFUSED)("401 for %s", async (_name, key) => {
    expect(await userOf(underClientCa[key])).toBe(401);
  });
});

describe("front proxy: X-Remote-* headers are trusted only behind a chain Go's x509.Verify accepts", () => {
  test("a valid front-proxy certificate makes the headers count", async () => {
    expect(await userOf(underFrontProxyCa.valid)).toBe("admin");
  });
  test.each(REFUSED)("401, headers ignored, for %s", async (_name, key) => {
    expect(await userOf(underFrontProxyCa[key])).toBe(401);
  });
  const fingerprintNotName = "a client-CA certificate does not make the headers count (bundle told by fingerprint)";
  test(fingerprintNotName, async () => {
    expect(await userOf(underClientCa.valid)).toBe("deep-admin");
  });
});

describe("the verdict is reached once per connection", () => {
  test("every request on one keep-alive connection carries the same recorded verdict", async () => {
    peersSeen.length = 0;
    const answers = await ask(underClientCa.lookAlikes300, 5);
    expect({ statuses: answers.map((answer) => answer.status), distinctPeers: new Set(peersSeen).size }).toEqual({
      statuses: [401, 401, 401, 401, 401],
      distinctPeers: 1,
    });
  });
  test("a chain over 100 KiB is refused by the TLS stack during the handshake", async () => {
    const { certificates } = underClientCa.lookAlikes300;
    const huge = chain(...certificates, ...certificates.slice(1));
    await expect(ask(huge)).rejects.toThrow();
  });
});

describe("CA rotation", () => {
  test("after the bundles change, new handshakes verify against the new client CA", async () => {
    const before = await userOf(chain(rotatedUser));
    config = { ...config, clientCaPem: rotatedClientCa.certPem };
    const clientCaPems = [rotatedClientCa.certPem, frontProxyCa.certPem];
    server.updateTls({ certPem: serving.certPem, keyPem: serving.keyPem, clientCaPems });
    expect({ before, after: await userOf(chain(rotatedUser)), oldCa: await userOf(underClientCa.valid) }).toEqual({
      before: 401,
      after: "rotated-user",
      oldCa: 401,
    });
  });
  test("a keep-alive connection refused before its CA was added is closed at the change, not left refused", async () => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port: server.port,
      rejectUnauthorized: false,
      cert: lateUser.certPem,
      key: lateUser.keyPem,
    });
    socket.setEncoding("utf8");
    const request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    /** What the connection does after a request: answers (with its status) or closes. */
    const next = () =>
      new Promise<string>((resolve) => {
        socket.once("close", () => resolve("closed"));
        socket.once("data", (chunk: string) => resolve(`answered ${chunk.slice(9, 12)}`));
        socket.write(request);
      });
    await new Promise((resolve) => socket.once("secureConnect", resolve));
    const before = await next();
    config = { ...config, clientCaPem: lateClientCa.certPem };
    server.updateTls({
      certPem: serving.certPem,
      keyPem: serving.keyPem,
      clientCaPems: [lateClientCa.certPem, frontProxyCa.certPem],
    });
    const after = await next();
    socket.destroy();
    expect({ before, after, reconnected: await userOf(chain(lateUser)) }).toEqual({
      before: "answered 401",
      after: "closed",
      reconnected: "late-user",
    });
  });
});
