/**
 * X.509 certificates with node-forge: a self-signed certificate authority and certificates it signs (serving
 * certificates for the HTTPS listener, client certificates for tests of front-proxy and x509 authentication).
 *
 * NB: key generation goes through `forge.pki.rsa.generateKeyPair({ bits: 2048 })`, which under Bun 1.4.5 detects
 * node's `crypto.generateKeyPairSync` and uses it: 40–90 ms per 2048-bit key, against ≈4 s with
 * `forge.options.usePureJavaScript = true`. Converting a `node:crypto` key into forge costs the same, so forge's own
 * call is the fast path. Signing stays in pure JS (≈50 ms per certificate with a 2048-bit key).
 */
import forge from "node-forge";

/** A certificate and its private key, both PEM. */
export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

const RSA_KEY_BITS = 2048;
const DAY_MS = 24 * 3600_000;
// NB: backdate notBefore a little so peers whose clocks run slightly behind accept a certificate made just now.
const CLOCK_SKEW_MS = 60_000;

/** Options of {@link generateCertificateAuthority}. */
export interface CertificateAuthorityOptions {
  /** Subject and issuer common name. */
  commonName: string;
  /** Validity in days from `now`; default 365. */
  validityDays?: number;
  /** Current time; notBefore is one minute earlier to allow for clock skew. */
  now: Date;
}

/** Creates a self-signed CA certificate (basicConstraints CA, keyCertSign + cRLSign) with a new RSA 2048 key. */
export function generateCertificateAuthority({
  commonName,
  validityDays = 365,
  now,
}: CertificateAuthorityOptions): CertificateAndKey {
  const keys = forge.pki.rsa.generateKeyPair({ bits: RSA_KEY_BITS });
  const cert = forge.pki.createCertificate();
  const subject = [nameAttribute("commonName", commonName)];
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerialNumber();
  cert.validity.notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  cert.validity.notAfter = new Date(now.getTime() + validityDays * DAY_MS);
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** Options of {@link generateSignedCertificate}. */
export interface SignedCertificateOptions {
  /** The issuing CA (certificate and key PEM). */
  ca: CertificateAndKey;
  /** Subject common name (the user name for x509 authentication, the allowed name for the front proxy). */
  commonName: string;
  /** Subject organization (O) values, in order (the groups for x509 authentication). Default none. */
  organizations?: string[];
  /** DNS subjectAltNames. Default none. */
  dnsNames?: string[];
  /** IP subjectAltNames (IPv4 or IPv6 text). Default none. */
  ipAddresses?: string[];
  /** `server` sets extKeyUsage serverAuth, `client` sets clientAuth, `ca` makes an intermediate CA. */
  usage: "server" | "client" | "ca";
  /** Validity in days, counted from notBefore. */
  validityDays: number;
  /** Start of validity; default one minute before `now`. Set it in the past to make an expired certificate. */
  notBefore?: Date;
  /** Current time. */
  now: Date;
}

/** Creates a certificate with a new RSA 2048 key, signed by `ca`: a leaf, or an intermediate CA with `usage: "ca"`. */
export function generateSignedCertificate({
  ca,
  commonName,
  organizations = [],
  dnsNames = [],
  ipAddresses = [],
  usage,
  validityDays,
  notBefore,
  now,
}: SignedCertificateOptions): CertificateAndKey {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const keys = forge.pki.rsa.generateKeyPair({ bits: RSA_KEY_BITS });
  const cert = forge.pki.createCertificate();
  const start = notBefore ?? new Date(now.getTime() - CLOCK_SKEW_MS);
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerialNumber();
  cert.validity.notBefore = start;
  cert.validity.notAfter = new Date(start.getTime() + validityDays * DAY_MS);
  cert.setSubject([
    ...organizations.map((value) => nameAttribute("organizationName", value)),
    nameAttribute("commonName", commonName),
  ]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [...dnsNames.map((value) => ({ type: 2, value })), ...ipAddresses.map((ip) => ({ type: 7, ip }))];
  const usageExtensions =
    usage === "ca"
      ? [
          { name: "basicConstraints", cA: true, critical: true },
          { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
        ]
      : [
          { name: "basicConstraints", cA: false, critical: true },
          { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
          usage === "server" ? { name: "extKeyUsage", serverAuth: true } : { name: "extKeyUsage", clientAuth: true },
        ];
  cert.setExtensions([
    ...usageExtensions,
    ...(altNames.length > 0 ? [{ name: "subjectAltName", altNames }] : []),
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** A positive 128-bit serial number as hex (the leading bit cleared so DER keeps it positive). */
function randomSerialNumber(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f;
  return Buffer.from(bytes).toString("hex");
}

/**
 * A subject attribute encoded as UTF8String. NB: node-forge defaults to PrintableString, which cannot hold `@`, `_`
 * or `:` (e.g. `prom-adapter-ca@1714564800`, `system:kube-aggregator`); Go's x509 parser then rejects the whole
 * certificate ("invalid PrintableString"), so kubectl and kube-apiserver could not connect.
 */
function nameAttribute(name: "commonName" | "organizationName", value: string): forge.pki.CertificateField {
  return { name, value, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class };
}
