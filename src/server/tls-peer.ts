/**
 * The one place that reads the client certificate: the HTTPS listener records what the TLS layer received for each
 * request, and authentication (front proxy, x509) asks for it here and verifies it against its own CA bundle.
 *
 * NB: the TLS layer only *requests* a certificate and never rejects one (as k8s.io/apiserver: anonymous requests stay
 * possible): its single `authorized` flag says nothing about which of several CA bundles (client-ca-file,
 * requestheader-client-ca-file) the certificate chains to, so `verifyPeerAgainst` does the chain verification itself.
 * The handshake has already proven that the client holds the certificate's private key.
 */
import { X509Certificate } from "node:crypto";
import type { DetailedPeerCertificate, TLSSocket } from "node:tls";

/** The certificate chain a client presented, as the TLS layer received it. */
export interface PeerCertificate {
  /** Subject CN of the leaf (the last CN when there are several, as Go's pkix does); "" when absent. */
  subjectCommonName: string;
  /** Subject O values of the leaf, in order. */
  organizations: string[];
  /** DER of every certificate in the chain, leaf first. Later entries are untrusted until verified. */
  chainDer: Uint8Array[];
  /** Start of the leaf's validity. */
  notBefore: Date;
  /** End of the leaf's validity. */
  notAfter: Date;
}

const peerByRequest = new WeakMap<Request, PeerCertificate>();

/** The client certificate that came with `request`, or `undefined` when the client sent none (or the request did not come through the HTTPS listener). */
export function peerCertificateOf(request: Request): PeerCertificate | undefined {
  return peerByRequest.get(request);
}

/** Records the client certificate of `request`; called by the HTTPS listener (and by tests building requests in-process). */
export function recordPeerCertificate(request: Request, peer: PeerCertificate): void {
  peerByRequest.set(request, peer);
}

/** Reads the certificate chain the client presented on `socket`; `undefined` when it sent none. */
export function peerCertificateOfSocket(socket: TLSSocket): PeerCertificate | undefined {
  const leaf = socket.getPeerCertificate(true) as DetailedPeerCertificate | null | undefined;
  if (!leaf?.raw || leaf.raw.length === 0) return undefined;
  const chainDer: Uint8Array[] = [];
  const seen = new Set<DetailedPeerCertificate>();
  // NB: the TLS layer appends the issuer it found in its own CA list after the certificates the client sent; it is
  // treated as untrusted like the rest, only the bundle given to verifyPeerAgainst is trusted.
  for (let current: DetailedPeerCertificate | undefined = leaf; current?.raw && !seen.has(current); current = current.issuerCertificate) {
    seen.add(current);
    chainDer.push(new Uint8Array(current.raw));
  }
  const parsed = new X509Certificate(leaf.raw);
  const subject = parsed.toLegacyObject().subject as unknown as Record<string, string | string[] | undefined>;
  const commonNames = valuesOf(subject.CN);
  return {
    subjectCommonName: commonNames.at(-1) ?? "",
    organizations: valuesOf(subject.O),
    chainDer,
    notBefore: parsed.validFromDate,
    notAfter: parsed.validToDate,
  };
}

function valuesOf(field: string | string[] | undefined): string[] {
  if (field === undefined) return [];
  return Array.isArray(field) ? field : [field];
}

const CLIENT_AUTH_OID = "1.3.6.1.5.5.7.3.2";
const ANY_EXTENDED_KEY_USAGE_OID = "2.5.29.37.0";
const MAX_CHAIN_LENGTH = 10;

/**
 * Whether `peer` chains to one of the certificates in `caPems` (each entry may be a PEM bundle of several
 * certificates) at time `now`: every link's signature verifies, every certificate on the path is within its validity
 * period, issuers are CA certificates, and wherever an extended key usage is present it allows client
 * authentication. The certificates the client sent after its leaf may serve as intermediates.
 *
 * NB: uses `node:crypto` X509Certificate rather than node-forge: forge cannot parse certificates with ECDSA keys
 * (k3s and others issue them), and OpenSSL's `checkIssued` also matches authority/subject key identifiers.
 */
export function verifyPeerAgainst(peer: PeerCertificate, caPems: readonly string[], now: Date): boolean {
  const anchors = caPems.flatMap(parsedBundle);
  if (anchors.length === 0) return false;
  let chain: X509Certificate[];
  try {
    chain = parsedChainOf(peer);
  } catch {
    return false;
  }
  const [leaf, ...intermediates] = chain;
  if (!leaf || !isUsableAt(leaf, now)) return false;
  const used = new Set<X509Certificate>();
  let current = leaf;
  for (let depth = 0; depth < MAX_CHAIN_LENGTH; depth++) {
    if (anchors.some((anchor) => isIssuerOf(anchor, current, now))) return true;
    const next = intermediates.find((candidate) => !used.has(candidate) && isIssuerOf(candidate, current, now));
    if (!next) return false;
    used.add(next);
    current = next;
  }
  return false;
}

function isIssuerOf(issuer: X509Certificate, subject: X509Certificate, now: Date): boolean {
  return issuer.ca && isUsableAt(issuer, now) && subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
}

function isUsableAt(certificate: X509Certificate, now: Date): boolean {
  const time = now.getTime();
  if (time < certificate.validFromDate.getTime() || time > certificate.validToDate.getTime()) return false;
  // NB: node names the extended key usage list `keyUsage`; it is undefined when the extension is absent.
  const extendedKeyUsage = certificate.keyUsage as string[] | undefined;
  return extendedKeyUsage === undefined || extendedKeyUsage.includes(CLIENT_AUTH_OID) || extendedKeyUsage.includes(ANY_EXTENDED_KEY_USAGE_OID);
}

const parsedChains = new WeakMap<PeerCertificate, X509Certificate[]>();

function parsedChainOf(peer: PeerCertificate): X509Certificate[] {
  let chain = parsedChains.get(peer);
  if (!chain) {
    chain = peer.chainDer.map((der) => new X509Certificate(der));
    parsedChains.set(peer, chain);
  }
  return chain;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const MAX_CACHED_BUNDLES = 16;
const parsedBundles = new Map<string, X509Certificate[]>();

/** The certificates of a PEM bundle; blocks that do not parse are skipped. Cached, since bundles change rarely. */
function parsedBundle(pem: string): X509Certificate[] {
  const cached = parsedBundles.get(pem);
  if (cached) return cached;
  const certificates: X509Certificate[] = [];
  for (const block of pem.match(PEM_CERTIFICATE) ?? []) {
    try {
      certificates.push(new X509Certificate(block));
    } catch {
      // An unparsable block trusts nothing; loading the bundle is where it gets reported.
    }
  }
  if (parsedBundles.size >= MAX_CACHED_BUNDLES) parsedBundles.delete(parsedBundles.keys().next().value!);
  parsedBundles.set(pem, certificates);
  return certificates;
}
