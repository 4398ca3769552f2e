import { describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { generateCertificateAuthority, generateSignedCertificate } from "./certificates.ts";
import { peerCertificateOf, recordPeerCertificate, verifyPeerAgainst, type PeerCertificate } from "./tls-peer.ts";

const now = new Date();
const DAY_MS = 24 * 3600_000;
const frontProxyCa = generateCertificateAuthority({ commonName: "front-proxy-ca", now });
const clientCa = generateCertificateAuthority({ commonName: "client-ca", now });
// Same subject as frontProxyCa but another key: a name match alone must not count.
const impostorCa = generateCertificateAuthority({ commonName: "front-proxy-ca", now });
const intermediate = generateSignedCertificate({ ca: clientCa, commonName: "client-intermediate", usage: "ca", validityDays: 30, now });

function client(ca: { certPem: string; keyPem: string }, extra: Partial<Parameters<typeof generateSignedCertificate>[0]> = {}) {
  return generateSignedCertificate({ ca, commonName: "front-proxy-client", usage: "client", validityDays: 30, now, ...extra }).certPem;
}

/** A PeerCertificate as the listener would record it for this chain (leaf first). */
function peerOf(...chainPems: string[]): PeerCertificate {
  const leaf = new X509Certificate(chainPems[0]!);
  return {
    subjectCommonName: "front-proxy-client",
    organizations: [],
    chainDer: chainPems.map((pem) => new Uint8Array(new X509Certificate(pem).raw)),
    notBefore: leaf.validFromDate,
    notAfter: leaf.validToDate,
  };
}

describe("verifyPeerAgainst", () => {
  test.each([
    { name: "a client certificate signed by the CA", chain: [client(frontProxyCa)], bundle: [frontProxyCa.certPem], expected: true },
    { name: "a CA found in a multi-certificate bundle", chain: [client(frontProxyCa)], bundle: [clientCa.certPem + frontProxyCa.certPem], expected: true },
    { name: "a CA found in the second bundle", chain: [client(frontProxyCa)], bundle: [clientCa.certPem, frontProxyCa.certPem], expected: true },
    { name: "a certificate signed by another CA", chain: [client(clientCa)], bundle: [frontProxyCa.certPem], expected: false },
    { name: "a CA with the same name but another key", chain: [client(impostorCa)], bundle: [frontProxyCa.certPem], expected: false },
    { name: "the CA the client sent along with its own certificate", chain: [client(impostorCa), impostorCa.certPem], bundle: [frontProxyCa.certPem], expected: false },
    { name: "an intermediate CA the client sent", chain: [client(intermediate), intermediate.certPem], bundle: [clientCa.certPem], expected: true },
    { name: "an intermediate CA the client did not send", chain: [client(intermediate)], bundle: [clientCa.certPem], expected: false },
    { name: "a serving certificate (no client-auth usage)", chain: [client(frontProxyCa, { usage: "server" })], bundle: [frontProxyCa.certPem], expected: false },
    {
      name: "an expired certificate",
      chain: [client(frontProxyCa, { notBefore: new Date(now.getTime() - 10 * DAY_MS), validityDays: 1 })],
      bundle: [frontProxyCa.certPem],
      expected: false,
    },
    {
      name: "a certificate not valid yet",
      chain: [client(frontProxyCa, { notBefore: new Date(now.getTime() + DAY_MS) })],
      bundle: [frontProxyCa.certPem],
      expected: false,
    },
    { name: "an empty bundle", chain: [client(frontProxyCa)], bundle: [], expected: false },
    { name: "a bundle that is not PEM", chain: [client(frontProxyCa)], bundle: ["not a certificate"], expected: false },
  ])("decides $expected for $name", ({ chain, bundle, expected }) => {
    expect(verifyPeerAgainst(peerOf(...chain), bundle, now)).toBe(expected);
  });

  test("rejects a chain whose CA has expired at the given time", () => {
    const peer = peerOf(client(frontProxyCa, { validityDays: 3 * 365 }));
    expect(verifyPeerAgainst(peer, [frontProxyCa.certPem], new Date(now.getTime() + 2 * 365 * DAY_MS))).toBe(false);
  });

  test("rejects a chain holding bytes that are not a certificate", () => {
    const peer = { ...peerOf(client(frontProxyCa)), chainDer: [new Uint8Array([1, 2, 3])] };
    expect(verifyPeerAgainst(peer, [frontProxyCa.certPem], now)).toBe(false);
  });
});

describe("peerCertificateOf", () => {
  test("returns what was recorded for the request and nothing for other requests", () => {
    const peer = peerOf(client(frontProxyCa));
    const request = new Request("https://localhost:6443/apis");
    recordPeerCertificate(request, peer);
    expect({ recorded: peerCertificateOf(request), other: peerCertificateOf(new Request("https://localhost:6443/apis")) }).toEqual({
      recorded: peer,
      other: undefined,
    });
  });
});
