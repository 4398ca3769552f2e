/**
 * Certificates made per run with the real `openssl` CLI (`openssl ca`), for tests and the benchmark that need chains
 * node-forge cannot or should not make: path-length violations, a CA:FALSE certificate used as an issuer, unknown
 * critical extensions, name constraints, validity windows in the past or future, and long chains of look-alike CAs.
 * Keys are EC P-256 (fast to make). Every call works in its own directory under `dir`.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A certificate and its private key, both PEM. */
export interface OpensslCertificate {
  certPem: string;
  keyPem: string;
}

/** Extension lines (openssl x509v3 config syntax) for a self-signed or intermediate CA. */
export const CA_EXTENSIONS = [
  "basicConstraints=critical,CA:TRUE",
  "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
  "subjectKeyIdentifier=hash",
];

/** Extension lines for a client certificate (clientAuth), as kubeadm issues them. */
export const CLIENT_EXTENSIONS = [
  "basicConstraints=critical,CA:FALSE",
  "keyUsage=critical,digitalSignature",
  "extendedKeyUsage=clientAuth",
];

/** What {@link OpensslPki.issue} makes. */
export interface IssueOptions {
  /** Subject in openssl's `/CN=.../O=...` form. */
  subject: string;
  /** The issuer; omitted for a self-signed certificate. */
  issuer?: OpensslCertificate;
  /** Extension lines, e.g. {@link CA_EXTENSIONS}. */
  extensions: readonly string[];
  /** Validity start, default one hour ago. */
  notBefore?: Date;
  /** Validity end, default 30 days from now. */
  notAfter?: Date;
}

/** A scratch CA workspace; `close()` removes its files. */
export interface OpensslPki {
  issue(options: IssueOptions): OpensslCertificate;
  /**
   * `count` self-signed CA certificates, each with its own key, all named `subject`: the padding of a chain-length
   * attack. Ed25519 keys keep 300 of them under the TLS stack's message limit. One `openssl req -x509` each.
   */
  lookAlikeCas(subject: string, count: number): OpensslCertificate[];
  close(): void;
}

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;
const afterDays = (days: number) => new Date(Date.now() + days * DAY_MS);

const CA_CONFIG = `[ca]
default_ca = scratch
[scratch]
database = index.txt
new_certs_dir = .
serial = serial
policy = anything
default_md = sha256
unique_subject = no
copy_extensions = none
[anything]
commonName = optional
organizationName = optional
`;

export function createOpensslPki(): OpensslPki {
  const dir = mkdtempSync(join(tmpdir(), "prom-adapter-pki-"));
  writeFileSync(join(dir, "ca.cnf"), CA_CONFIG);
  writeFileSync(join(dir, "index.txt"), "");
  writeFileSync(join(dir, "serial"), "1000\n");
  let sequence = 0;

  function openssl(args: string[], cwd: string): void {
    const result = Bun.spawnSync(["openssl", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
    if (result.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.toString()}`);
  }

  function newKey(name: string): string {
    openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`], dir);
    return readFileSync(join(dir, `${name}.key`), "utf8");
  }

  return {
    issue({ subject, issuer, extensions, notBefore = new Date(Date.now() - HOUR_MS), notAfter = afterDays(30) }) {
      const name = `c${++sequence}`;
      const keyPem = newKey(name);
      openssl(["req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`], dir);
      writeFileSync(join(dir, `${name}.ext`), `[x]\n${extensions.join("\n")}\n`);
      const signer = issuer
        ? ["-cert", `${name}.issuer.pem`, "-keyfile", `${name}.issuer.key`]
        : ["-selfsign", "-keyfile", `${name}.key`];
      if (issuer) {
        writeFileSync(join(dir, `${name}.issuer.pem`), issuer.certPem);
        writeFileSync(join(dir, `${name}.issuer.key`), issuer.keyPem);
      }
      openssl(
        [
          ...["ca", "-config", "ca.cnf", "-batch", "-notext", ...signer, "-in", `${name}.csr`, "-out", `${name}.pem`],
          ...["-extfile", `${name}.ext`, "-extensions", "x"],
          ...["-startdate", opensslTime(notBefore), "-enddate", opensslTime(notAfter)],
        ],
        dir,
      );
      return { certPem: readFileSync(join(dir, `${name}.pem`), "utf8"), keyPem };
    },
    lookAlikeCas(subject, count) {
      const padding = join(dir, `pad${++sequence}`);
      mkdirSync(padding);
      const certificates: OpensslCertificate[] = [];
      for (let index = 0; index < count; index++) {
        openssl(
          [
            ...["req", "-x509", "-newkey", "ed25519", "-nodes", "-keyout", `${index}.key`, "-out", `${index}.pem`],
            ...["-subj", subject, "-days", "30"],
            ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"],
            // Without key identifiers nothing but a signature check tells one look-alike from another.
            ...["-addext", "subjectKeyIdentifier=none", "-addext", "authorityKeyIdentifier=none"],
          ],
          padding,
        );
        certificates.push({
          certPem: readFileSync(join(padding, `${index}.pem`), "utf8"),
          keyPem: readFileSync(join(padding, `${index}.key`), "utf8"),
        });
      }
      return certificates;
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `YYYYMMDDHHMMSSZ`, the GeneralizedTime form `openssl ca -startdate/-enddate` takes. */
function opensslTime(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;
}
