import { describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { generateCertificateAuthority, generateSignedCertificate } from "./certificates.ts";
import {
  isPeerTrustedBy,
  MAX_PEER_CHAIN_LENGTH,
  peerCertificateOf,
  recordPeerCertificate,
  type PeerCertificate,
} from "./tls-peer.ts";

const now = new Date();
const DAY_MS = 24 * 3600_000;
const frontProxyCa = generateCertificateAuthority({ commonName: "front-proxy-ca", now });
const clientCa = generateCertificateAuthority({ commonName: "client-ca", now });
// Same subject as frontProxyCa but another key: a name match alone must not count.
const impostorCa = generateCertificateAuthority({ commonName: "front-proxy-ca", now });
const intermediate = generateSignedCertificate({
  ca: clientCa,
  commonName: "client-intermediate",
  usage: "ca",
  validityDays: 30,
  now,
});

function client(
  ca: { certPem: string; keyPem: string },
  extra: Partial<Parameters<typeof generateSignedCertificate>[0]> = {},
) {
  return generateSignedCertificate({
    ca,
    commonName: "front-proxy-client",
    usage: "client",
    validityDays: 30,
    now,
    ...extra,
  }).certPem;
}

/** A PeerCertificate as the listener records it after the TLS stack verified this chain (leaf first, anchor last). */
function peerOf(...chainPems: string[]): PeerCertificate {
  const leaf = new X509Certificate(chainPems[0]!);
  return {
    subjectCommonName: "front-proxy-client",
    organizations: [],
    chainDer: chainPems.map((pem) => new Uint8Array(new X509Certificate(pem).raw)),
    notBefore: leaf.validFromDate,
    notAfter: leaf.validToDate,
    verificationError: undefined,
  };
}

const proxyChain = () => [client(frontProxyCa), frontProxyCa.certPem];

describe("isPeerTrustedBy", () => {
  test.each([
    { name: "a chain ending at the bundle's CA", chain: proxyChain(), bundle: frontProxyCa.certPem, expected: true },
    {
      name: "a chain ending at a CA found in a multi-certificate bundle",
      chain: [client(frontProxyCa), frontProxyCa.certPem],
      bundle: clientCa.certPem + frontProxyCa.certPem,
      expected: true,
    },
    {
      name: "a chain ending at another bundle's CA",
      chain: [client(clientCa), clientCa.certPem],
      bundle: frontProxyCa.certPem,
      expected: false,
    },
    {
      name: "a chain ending at a CA with the bundle CA's name but another key",
      chain: [client(impostorCa), impostorCa.certPem],
      bundle: frontProxyCa.certPem,
      expected: false,
    },
    {
      name: "a chain through an intermediate to the bundle's CA",
      chain: [client(intermediate), intermediate.certPem, clientCa.certPem],
      bundle: clientCa.certPem,
      expected: true,
    },
    {
      name: "a chain ending at an intermediate the bundle does not hold",
      chain: [client(intermediate), intermediate.certPem],
      bundle: clientCa.certPem,
      expected: false,
    },
    { name: "an empty bundle", chain: [client(frontProxyCa), frontProxyCa.certPem], bundle: "", expected: false },
    { name: "a bundle that is not PEM", chain: proxyChain(), bundle: "not a certificate", expected: false },
  ])("decides $expected for $name", ({ chain, bundle, expected }) => {
    expect(isPeerTrustedBy(peerOf(...chain), bundle, now)).toBe(expected);
  });

  test("refuses a chain the TLS handshake did not verify, even when it ends at the bundle's CA", () => {
    const peer = { ...peerOf(client(frontProxyCa), frontProxyCa.certPem), verificationError: "CERT_HAS_EXPIRED" };
    expect(isPeerTrustedBy(peer, frontProxyCa.certPem, now)).toBe(false);
  });

  test("refuses a verified chain once its leaf has expired at the given time (keep-alive outlives it)", () => {
    const peer = peerOf(client(frontProxyCa, { validityDays: 30 }), frontProxyCa.certPem);
    expect(isPeerTrustedBy(peer, frontProxyCa.certPem, new Date(now.getTime() + 31 * DAY_MS))).toBe(false);
  });

  test("refuses a verified chain once its CA has expired at the given time", () => {
    const peer = peerOf(client(frontProxyCa, { validityDays: 3 * 365 }), frontProxyCa.certPem);
    expect(isPeerTrustedBy(peer, frontProxyCa.certPem, new Date(now.getTime() + 2 * 365 * DAY_MS))).toBe(false);
  });

  test(`refuses a chain of more than ${MAX_PEER_CHAIN_LENGTH} certificates`, () => {
    const padding = Array.from({ length: MAX_PEER_CHAIN_LENGTH }, () => intermediate.certPem);
    const peer = peerOf(client(intermediate), ...padding, clientCa.certPem);
    expect(isPeerTrustedBy(peer, clientCa.certPem, now)).toBe(false);
  });
});

describe("peerCertificateOf", () => {
  test("returns what was recorded for the request and nothing for other requests", () => {
    const peer = peerOf(client(frontProxyCa));
    const request = new Request("https://localhost:6443/apis");
    recordPeerCertificate(request, peer);
    expect({
      recorded: peerCertificateOf(request),
      other: peerCertificateOf(new Request("https://localhost:6443/apis")),
    }).toEqual({
      recorded: peer,
      other: undefined,
    });
  });
});
