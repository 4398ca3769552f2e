/**
 * The stand-in's certificates, laid out like a kubeadm cluster: one cluster CA that signs the serving certificate
 * and is also the `client-ca-file` (so it signs client certificates), and a separate front-proxy CA with its
 * `front-proxy-client` certificate for the aggregation layer.
 * NB: made once per process and shared by every stand-in: each RSA key costs 40–90 ms and tests start many servers.
 */
import {
  generateCertificateAuthority,
  generateSignedCertificate,
  type CertificateAndKey,
} from "../../../src/server/certificates.ts";

/** The certificates of a stand-in cluster. */
export interface ClusterPki {
  /** Cluster CA: trusts the serving certificate and signs client certificates. */
  clusterCa: CertificateAndKey;
  /** Serving certificate for `127.0.0.1` and `localhost`. */
  serving: CertificateAndKey;
  /** Front-proxy CA (`requestheader-client-ca-file`). */
  frontProxyCa: CertificateAndKey;
  /** `CN=front-proxy-client`, signed by the front-proxy CA: what kube-apiserver presents when proxying. */
  frontProxyClient: CertificateAndKey;
}

let shared: ClusterPki | undefined;

/** The process-wide certificates, created on first use. */
export function clusterPki(): ClusterPki {
  if (!shared) {
    const now = new Date();
    const clusterCa = generateCertificateAuthority({ commonName: "kubernetes", now });
    const frontProxyCa = generateCertificateAuthority({ commonName: "front-proxy-ca", now });
    shared = {
      clusterCa,
      serving: generateSignedCertificate({
        ca: clusterCa,
        commonName: "kube-apiserver",
        dnsNames: [
          "localhost",
          "kubernetes",
          "kubernetes.default",
          "kubernetes.default.svc",
          "kubernetes.default.svc.cluster.local",
        ],
        ipAddresses: ["127.0.0.1"],
        usage: "server",
        validityDays: 30,
        now,
      }),
      frontProxyCa,
      frontProxyClient: generateSignedCertificate({
        ca: frontProxyCa,
        commonName: "front-proxy-client",
        usage: "client",
        validityDays: 30,
        now,
      }),
    };
  }
  return shared;
}

/** A client certificate from the cluster CA: x509 user `commonName` in groups `organizations`. About 0.1 s. */
export function issueClientCertificate(commonName: string, organizations: string[] = []): CertificateAndKey {
  return generateSignedCertificate({
    ca: clusterPki().clusterCa,
    commonName,
    organizations,
    usage: "client",
    validityDays: 30,
    now: new Date(),
  });
}
