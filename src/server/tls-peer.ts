/**
 * The one place that reads the client certificate. The TLS handshake verifies the chain (the listener asks for a
 * certificate and gives the TLS stack the union of the client-CA and front-proxy-CA bundles); this module records,
 * once per connection, what the TLS stack decided and the chain it verified. Authentication (front proxy, x509) then
 * asks `isPeerTrustedBy` whether that verified chain ends at a certificate of *its* bundle, compared by SHA-256
 * fingerprint, never by name.
 *
 * NB: path validation is the TLS stack's (Bun 1.4.5's BoringSSL, purpose "SSL client"), checked by experiment and by
 * test/regression/11-chain-dos.test.ts: basicConstraints and pathLen, CA:FALSE issuers, keyUsage keyCertSign on CAs,
 * the clientAuth EKU (a leaf without EKU passes, as in Go), unknown critical extensions, name constraints, validity,
 * and at most 100 chain levels; it refuses a Certificate message over 100 KiB. It runs once per handshake, so the
 * cost of a long chain is paid once per connection, not per request.
 */
import { X509Certificate } from "node:crypto";
import type { DetailedPeerCertificate, TLSSocket } from "node:tls";

/** The certificate chain a client presented, and what the TLS handshake decided about it. */
export interface PeerCertificate {
  /** Subject CN of the leaf (the last CN when there are several, as Go's pkix does); "" when absent. */
  subjectCommonName: string;
  /** Subject O values of the leaf, in order. */
  organizations: string[];
  /**
   * DER of the chain, leaf first. When `verificationError` is undefined this is the chain the TLS stack verified,
   * ending at the trust anchor it found in the CA bundles; otherwise it is untrusted.
   */
  chainDer: Uint8Array[];
  /** Start of the leaf's validity. */
  notBefore: Date;
  /** End of the leaf's validity. */
  notAfter: Date;
  /**
   * Why the chain is not trusted (the TLS stack's code such as `CERT_HAS_EXPIRED`, or this module's own reason);
   * undefined when the TLS stack verified it against the CA bundles given to the listener.
   */
  verificationError: string | undefined;
}

/** Most certificates a trusted chain may hold, anchor included (Kubernetes clients send 1–3). */
export const MAX_PEER_CHAIN_LENGTH = 10;

const peerByRequest = new WeakMap<Request, PeerCertificate>();

/** The client certificate that came with `request`, or `undefined` when the client sent none (or the request did not come through the HTTPS listener). */
export function peerCertificateOf(request: Request): PeerCertificate | undefined {
  return peerByRequest.get(request);
}

/** Records the client certificate of `request`; called by the HTTPS listener (and by tests building requests in-process). */
export function recordPeerCertificate(request: Request, peer: PeerCertificate): void {
  peerByRequest.set(request, peer);
}

const peerBySocket = new WeakMap<TLSSocket, PeerCertificate | null>();

/**
 * The certificate chain the client presented on `socket` and the TLS stack's verdict on it; `undefined` when it
 * sent none. Read once per connection (cached on the socket), since the handshake verified it once.
 */
export function peerCertificateOfSocket(socket: TLSSocket): PeerCertificate | undefined {
  let peer = peerBySocket.get(socket);
  if (peer === undefined) {
    peer = readPeerCertificate(socket) ?? null;
    peerBySocket.set(socket, peer);
  }
  return peer ?? undefined;
}

function readPeerCertificate(socket: TLSSocket): PeerCertificate | undefined {
  const leaf = socket.getPeerCertificate(true) as DetailedPeerCertificate | null | undefined;
  if (!leaf?.raw || leaf.raw.length === 0) return undefined;
  const chainDer: Uint8Array[] = [];
  const seen = new Set<DetailedPeerCertificate>();
  // One more than the cap, to tell "too long" from "at the cap"; the rest of a long chain is never parsed.
  for (
    let current: DetailedPeerCertificate | undefined = leaf;
    current?.raw && !seen.has(current);
    current = current.issuerCertificate
  ) {
    if (chainDer.length > MAX_PEER_CHAIN_LENGTH) break;
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
    verificationError: verificationErrorOf(socket, chainDer),
  };
}

function verificationErrorOf(socket: TLSSocket, chainDer: readonly Uint8Array[]): string | undefined {
  if (!socket.authorized) {
    const error = socket.authorizationError as (Error & { code?: string }) | string | null | undefined;
    if (typeof error === "string") return error;
    return error?.code ?? error?.message ?? "the TLS handshake did not verify the certificate";
  }
  if (chainDer.length > MAX_PEER_CHAIN_LENGTH) return `the chain holds more than ${MAX_PEER_CHAIN_LENGTH} certificates`;
  // NB: not a second path validation: it only makes sure the chain the TLS stack reports is the signature chain it
  // verified (each certificate signed by the next), so that its last certificate really is the anchor whose
  // fingerprint decides the bundle. At most MAX_PEER_CHAIN_LENGTH - 1 signature checks, once per connection.
  const chain = chainDer.map((der) => new X509Certificate(der));
  for (let index = 0; index + 1 < chain.length; index++) {
    const [subject, issuer] = [chain[index]!, chain[index + 1]!];
    if (!subject.checkIssued(issuer) || !subject.verify(issuer.publicKey)) {
      return "the verified chain reported by the TLS stack does not link";
    }
  }
  return undefined;
}

function valuesOf(field: string | string[] | undefined): string[] {
  if (field === undefined) return [];
  return Array.isArray(field) ? field : [field];
}

/**
 * Whether `peer`'s chain was verified by the TLS handshake and ends at a certificate of the `caPem` bundle (compared
 * by SHA-256 fingerprint), with every certificate of the chain within its validity period at `now`. The validity is
 * checked again here because a keep-alive connection outlives the handshake.
 */
export function isPeerTrustedBy(peer: PeerCertificate, caPem: string, now: Date): boolean {
  if (peer.verificationError !== undefined || peer.chainDer.length > MAX_PEER_CHAIN_LENGTH) return false;
  const chain = parsedChainOf(peer);
  const anchor = chain.at(-1);
  if (!anchor || !fingerprintsOf(caPem).has(anchor.fingerprint256)) return false;
  const time = now.getTime();
  return chain.every(
    (certificate) => time >= certificate.validFromDate.getTime() && time <= certificate.validToDate.getTime(),
  );
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
const fingerprintsByBundle = new Map<string, Set<string>>();

/** SHA-256 fingerprints of a PEM bundle's certificates; blocks that do not parse are skipped. Cached per bundle. */
function fingerprintsOf(pem: string): Set<string> {
  const cached = fingerprintsByBundle.get(pem);
  if (cached) return cached;
  const fingerprints = new Set<string>();
  for (const block of pem.match(PEM_CERTIFICATE) ?? []) {
    try {
      fingerprints.add(new X509Certificate(block).fingerprint256);
    } catch {
      // An unparsable block trusts nothing; loading the bundle is where it gets reported.
    }
  }
  if (fingerprintsByBundle.size >= MAX_CACHED_BUNDLES) {
    fingerprintsByBundle.delete(fingerprintsByBundle.keys().next().value!);
  }
  fingerprintsByBundle.set(pem, fingerprints);
  return fingerprints;
}
