import { afterAll, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateCertificateAuthority, generateSignedCertificate } from "./certificates.ts";
import { loadOrCreateServingCertificate, ServingCertificateError } from "./tls.ts";

const now = new Date();
const scratch = mkdtempSync(join(tmpdir(), "prom-adapter-tls-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
function freshDir(): string {
  counter += 1;
  return join(scratch, `case-${counter}`, "nested", "certificates");
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\r?\n?/g;

describe("a self-signed pair in certDir", () => {
  test("is generated with a CA when absent, covering localhost and 127.0.0.1 for one year", () => {
    const certDir = freshDir();
    const result = loadOrCreateServingCertificate({ certDir, now });

    expect({ generated: result.generated, certFile: result.certFile, keyFile: result.keyFile }).toEqual({
      generated: true,
      certFile: join(certDir, "apiserver.crt"),
      keyFile: join(certDir, "apiserver.key"),
    });
    const [servingPem, caPem] = result.certPem.match(PEM_CERTIFICATE) ?? [];
    const serving = new X509Certificate(servingPem!);
    const ca = new X509Certificate(caPem!);
    expect(caPem).toBe(result.caPem!);
    expect(readFileSync(join(certDir, "ca.crt"), "utf8")).toBe(result.caPem!);
    expect(readFileSync(result.certFile, "utf8")).toBe(result.certPem);
    expect(readFileSync(result.keyFile, "utf8")).toBe(result.keyPem);
    expect(ca.subject).toBe(`CN=prom-adapter-ca@${Math.floor(now.getTime() / 1000)}`);
    expect(ca.ca).toBe(true);
    expect(serving.subject).toBe("CN=localhost");
    expect(serving.checkIssued(ca) && serving.verify(ca.publicKey)).toBe(true);
    expect(serving.checkHost("localhost")).toBe("localhost");
    expect(serving.checkIP("127.0.0.1")).toBe("127.0.0.1");
    const yearMs = 365 * 24 * 3600_000;
    expect(Math.abs(serving.validToDate.getTime() - (now.getTime() + yearMs))).toBeLessThan(120_000);
  });

  test("is written with a private directory and a private key file", () => {
    const certDir = freshDir();
    const result = loadOrCreateServingCertificate({ certDir, now });
    expect({
      dir: statSync(certDir).mode & 0o777,
      key: statSync(result.keyFile).mode & 0o777,
    }).toEqual({ dir: 0o700, key: 0o600 });
  });

  test("covers the given hosts with DNS and IP subjectAltNames, the first host as CN", () => {
    const result = loadOrCreateServingCertificate({
      certDir: freshDir(),
      hosts: ["prom-adapter.monitoring.svc", "10.0.0.7", "::1"],
      now,
    });
    const serving = new X509Certificate(result.certPem);
    expect(serving.subject).toBe("CN=prom-adapter.monitoring.svc");
    expect(serving.subjectAltName).toBe(
      "DNS:prom-adapter.monitoring.svc, IP Address:10.0.0.7, IP Address:0:0:0:0:0:0:0:1",
    );
  });

  test("is reused on the next start", () => {
    const certDir = freshDir();
    const first = loadOrCreateServingCertificate({ certDir, now });
    const second = loadOrCreateServingCertificate({ certDir, now });
    expect(second).toEqual({ ...first, generated: false });
  });

  test("is regenerated when a file does not parse", () => {
    const certDir = freshDir();
    const first = loadOrCreateServingCertificate({ certDir, now });
    writeFileSync(first.keyFile, "not a key");
    const second = loadOrCreateServingCertificate({ certDir, now });
    expect(second.generated).toBe(true);
    expect(second.certPem).not.toBe(first.certPem);
  });

  test("is regenerated when it has expired", () => {
    const certDir = freshDir();
    const first = loadOrCreateServingCertificate({ certDir, now });
    const twoYearsLater = new Date(now.getTime() + 2 * 365 * 24 * 3600_000);
    const second = loadOrCreateServingCertificate({ certDir, now: twoYearsLater });
    expect(second.generated).toBe(true);
    expect(second.certPem).not.toBe(first.certPem);
  });

  test("cannot be written to an unwritable certDir, and the error names the directory and --cert-dir", () => {
    const blocker = join(scratch, "a-regular-file");
    writeFileSync(blocker, "");
    const certDir = join(blocker, "certificates");
    expect(() => loadOrCreateServingCertificate({ certDir, now })).toThrow(ServingCertificateError);
    expect(() => loadOrCreateServingCertificate({ certDir, now })).toThrow(`directory "${certDir}" (set --cert-dir`);
  });
});

describe("explicit --tls-cert-file and --tls-private-key-file", () => {
  const ca = generateCertificateAuthority({ commonName: "explicit-ca", now });
  const pair = generateSignedCertificate({
    ca,
    commonName: "adapter",
    dnsNames: ["adapter"],
    usage: "server",
    validityDays: 30,
    now,
  });
  const other = generateSignedCertificate({ ca, commonName: "other", usage: "server", validityDays: 30, now });
  const dir = mkdtempSync(join(tmpdir(), "prom-adapter-explicit-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const certFile = join(dir, "tls.crt");
  const keyFile = join(dir, "tls.key");
  const otherKeyFile = join(dir, "other.key");
  const garbageFile = join(dir, "garbage.pem");
  const missingFile = join(dir, "missing.pem");
  writeFileSync(certFile, pair.certPem + ca.certPem);
  writeFileSync(keyFile, pair.keyPem);
  writeFileSync(otherKeyFile, other.keyPem);
  writeFileSync(garbageFile, "hello");

  test("are read as given and nothing is written to certDir", () => {
    const certDir = freshDir();
    const result = loadOrCreateServingCertificate({ certFile, keyFile, certDir, now });
    expect(result).toEqual({
      certPem: pair.certPem + ca.certPem,
      keyPem: pair.keyPem,
      generated: false,
      certFile,
      keyFile,
    });
    expect(() => statSync(certDir)).toThrow();
  });

  test.each([
    {
      name: "an unreadable certificate file",
      certFile: missingFile,
      keyFile,
      message: `unable to read --tls-cert-file "${missingFile}"`,
    },
    {
      name: "an unreadable key file",
      certFile,
      keyFile: missingFile,
      message: `unable to read --tls-private-key-file "${missingFile}"`,
    },
    {
      name: "a certificate file without PEM",
      certFile: garbageFile,
      keyFile,
      message: `--tls-cert-file "${garbageFile}" does not hold a PEM certificate`,
    },
    {
      name: "a key file without PEM",
      certFile,
      keyFile: garbageFile,
      message: `--tls-private-key-file "${garbageFile}" does not hold a PEM private key`,
    },
    {
      name: "a key of another certificate",
      certFile,
      keyFile: otherKeyFile,
      message: `--tls-private-key-file "${otherKeyFile}" is not the private key of --tls-cert-file "${certFile}"`,
    },
    {
      name: "a certificate without a key",
      certFile,
      keyFile: undefined,
      message: "--tls-cert-file requires --tls-private-key-file",
    },
    {
      name: "a key without a certificate",
      certFile: undefined,
      keyFile,
      message: "--tls-private-key-file requires --tls-cert-file",
    },
  ])("are rejected with a message naming the file for $name", ({ certFile, keyFile, message }) => {
    expect(() => loadOrCreateServingCertificate({ certFile, keyFile, certDir: freshDir(), now })).toThrow(message);
  });
});
