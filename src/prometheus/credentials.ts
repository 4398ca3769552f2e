/** What the HTTP transport sends to authenticate: the Authorization header per request and the TLS options. */
import { readFileSync } from "node:fs";
import type { PrometheusAuthConfig } from "./auth-config.ts";
import { PrometheusConfigError } from "./errors.ts";
import { createTokenFile, type TokenFile } from "./token-file.ts";

/** Supplies the Authorization header for each request. */
export interface Authorization {
  /** The Authorization header value to send and the secret part of it (redacted from error messages), if any. */
  header(): Promise<{ value: string; secret: string } | undefined>;
}

/**
 * Precedence: an explicit `Authorization` header, then `bearerTokenFile`, then the auth config's tokenFile, token,
 * username/password, then credentials in the URL.
 */
export function createAuthorization({
  headers,
  bearerTokenFile,
  authConfig,
  urlUser,
}: {
  headers: Readonly<Record<string, unknown>>;
  bearerTokenFile: string | undefined;
  authConfig: PrometheusAuthConfig | undefined;
  urlUser: { username: string; password: string } | undefined;
}): Authorization {
  const none: Authorization = { header: async () => undefined };
  if (Object.keys(headers).some((name) => name.toLowerCase() === "authorization")) return none;
  const tokenFile: TokenFile | undefined =
    bearerTokenFile !== undefined ? createTokenFile(bearerTokenFile) : authConfig?.tokenFile;
  if (tokenFile !== undefined) {
    return {
      async header() {
        const token = await tokenFile.read();
        return { value: `Bearer ${token}`, secret: token };
      },
    };
  }
  if (authConfig?.token !== undefined) {
    const token = authConfig.token;
    return { header: async () => ({ value: `Bearer ${token}`, secret: token }) };
  }
  const basic = authConfig?.basicAuth ?? urlUser;
  if (basic !== undefined) {
    const encoded = Buffer.from(`${basic.username}:${basic.password}`).toString("base64");
    return { header: async () => ({ value: `Basic ${encoded}`, secret: encoded }) };
  }
  return none;
}

/** Bun's `fetch` TLS options. */
export type FetchTls = NonNullable<BunFetchRequestInit["tls"]>;

/** Bun `fetch` TLS options from the CA / client certificate files and the auth config (files win); undefined when nothing is set. */
export function createTlsOptions({
  caFile,
  clientCertFile,
  clientKeyFile,
  authConfig,
}: {
  caFile: string | undefined;
  clientCertFile: string | undefined;
  clientKeyFile: string | undefined;
  authConfig: PrometheusAuthConfig | undefined;
}): FetchTls | undefined {
  if ((clientCertFile === undefined) !== (clientKeyFile === undefined)) {
    throw new PrometheusConfigError("the Prometheus client certificate and key files must be given together");
  }
  const ca = caFile !== undefined ? readPem(caFile, "CA file") : authConfig?.caPem;
  const cert =
    clientCertFile !== undefined ? readPem(clientCertFile, "client certificate file") : authConfig?.clientCertPem;
  const key = clientKeyFile !== undefined ? readPem(clientKeyFile, "client key file") : authConfig?.clientKeyPem;
  const tls: FetchTls = {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined || key === undefined ? {} : { cert, key }),
    ...(authConfig?.insecureSkipTlsVerify ? { rejectUnauthorized: false } : {}),
    ...(authConfig?.tlsServerName === undefined ? {} : { serverName: authConfig.tlsServerName }),
  };
  return Object.keys(tls).length === 0 ? undefined : tls;
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new PrometheusConfigError(
      `cannot read Prometheus ${what} ${JSON.stringify(path)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
