import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse } from "yaml";
import { PrometheusConfigError } from "./errors.ts";
import { createTokenFile, type TokenFile } from "./token-file.ts";

/**
 * The credentials and TLS settings taken from a kubeconfig-format file given as `--prometheus-auth-config`.
 * Only the auth parts are used; the cluster's `server` is ignored (the URL is `--prometheus-url`).
 */
export interface PrometheusAuthConfig {
  /** Trusted CA bundle (PEM) from the cluster's `certificate-authority` / `certificate-authority-data`. */
  readonly caPem?: string;
  /** The cluster's `insecure-skip-tls-verify`: accept any server certificate. Default false. */
  readonly insecureSkipTlsVerify: boolean;
  /** The cluster's `tls-server-name`: the name the server certificate is checked against (and SNI). */
  readonly tlsServerName?: string;
  /** Client certificate chain (PEM) from the user's `client-certificate` / `client-certificate-data`. */
  readonly clientCertPem?: string;
  /** Client private key (PEM) from the user's `client-key` / `client-key-data`. */
  readonly clientKeyPem?: string;
  /** Static bearer token (the user's `token`), used when there is no `tokenFile`. */
  readonly token?: string;
  /** The user's `tokenFile`, re-read on every request. Wins over `token`, as in client-go. */
  readonly tokenFile?: TokenFile;
  /** The user's `username` + `password`, sent as HTTP basic auth. */
  readonly basicAuth?: { readonly username: string; readonly password: string };
}

type YamlMap = Record<string, unknown>;

/**
 * Reads a kubeconfig file and returns the auth parts of its current context. Relative file paths inside it are
 * resolved against the file's directory, as kubectl does. Throws {@link PrometheusConfigError} for an unreadable
 * file, a missing context/cluster/user, an unreadable referenced file, `exec` / `auth-provider` plugins (not
 * supported), or a user with both a token and a username/password (client-go refuses that too).
 *
 * NB: with no `current-context`, client-go ends with "no configuration has been provided"; here a file with exactly
 * one context uses it, which is what such a file means.
 */
export function loadPrometheusAuthConfig(path: string): PrometheusAuthConfig {
  const fail = (message: string, cause?: unknown): never => {
    throw new PrometheusConfigError(`prometheus auth config ${JSON.stringify(path)}: ${message}`, { cause });
  };
  let document: unknown;
  try {
    document = parse(readFileSync(path, "utf8"));
  } catch (error) {
    return fail((error as Error).message, error);
  }
  if (!isMap(document)) return fail("not a kubeconfig (expected a YAML mapping)");

  const contexts = namedEntries(document, "contexts", "context", fail);
  let contextName = optionalString(document, "current-context", fail);
  if (contextName === undefined || contextName === "") {
    if (contexts.size !== 1) return fail("current-context is not set");
    contextName = [...contexts.keys()][0]!;
  }
  const context = contexts.get(contextName) ?? fail(`context ${JSON.stringify(contextName)} not found`);
  const clusterName = optionalString(context, "cluster", fail);
  const userName = optionalString(context, "user", fail);
  const cluster =
    clusterName === undefined
      ? {}
      : (namedEntries(document, "clusters", "cluster", fail).get(clusterName) ??
        fail(`cluster ${JSON.stringify(clusterName)} not found`));
  const user =
    userName === undefined
      ? {}
      : (namedEntries(document, "users", "user", fail).get(userName) ??
        fail(`user ${JSON.stringify(userName)} not found`));

  for (const plugin of ["exec", "auth-provider"]) {
    if (user[plugin] !== undefined && user[plugin] !== null)
      fail(`user ${JSON.stringify(userName)}: "${plugin}" credentials are not supported`);
  }
  const baseDir = dirname(resolve(path));
  const pem = (map: YamlMap, fileKey: string): string | undefined => {
    const data = optionalString(map, `${fileKey}-data`, fail);
    if (data !== undefined && data !== "") return Buffer.from(data, "base64").toString("utf8");
    const file = optionalString(map, fileKey, fail);
    if (file === undefined || file === "") return undefined;
    const filePath = isAbsolute(file) ? file : resolve(baseDir, file);
    try {
      return readFileSync(filePath, "utf8");
    } catch (error) {
      return fail(`${fileKey} ${JSON.stringify(filePath)}: ${(error as Error).message}`, error);
    }
  };

  const token = optionalString(user, "token", fail);
  const tokenFilePath = optionalString(user, "tokenFile", fail);
  const username = optionalString(user, "username", fail);
  const password = optionalString(user, "password", fail);
  const hasToken = (token ?? "") !== "" || (tokenFilePath ?? "") !== "";
  const hasBasic = (username ?? "") !== "" || (password ?? "") !== "";
  if (hasToken && hasBasic)
    fail(`user ${JSON.stringify(userName)}: username/password or bearer token may be set, but not both`);

  const caPem = pem(cluster, "certificate-authority");
  const clientCertPem = pem(user, "client-certificate");
  const clientKeyPem = pem(user, "client-key");
  if ((clientCertPem === undefined) !== (clientKeyPem === undefined))
    fail(`user ${JSON.stringify(userName)}: client-certificate and client-key must be set together`);
  const tlsServerName = optionalString(cluster, "tls-server-name", fail);
  const skip = cluster["insecure-skip-tls-verify"];
  if (skip !== undefined && skip !== null && typeof skip !== "boolean")
    fail("insecure-skip-tls-verify must be true or false");

  return {
    ...(caPem === undefined ? {} : { caPem }),
    insecureSkipTlsVerify: skip === true,
    ...(tlsServerName === undefined || tlsServerName === "" ? {} : { tlsServerName }),
    ...(clientCertPem === undefined || clientKeyPem === undefined ? {} : { clientCertPem, clientKeyPem }),
    ...(token === undefined || token === "" ? {} : { token }),
    ...(tokenFilePath === undefined || tokenFilePath === ""
      ? {}
      : {
          tokenFile: createTokenFile(
            isAbsolute(tokenFilePath) ? tokenFilePath : resolve(baseDir, tokenFilePath),
            "auth config tokenFile",
          ),
        }),
    ...(hasBasic ? { basicAuth: { username: username ?? "", password: password ?? "" } } : {}),
  };
}

function isMap(value: unknown): value is YamlMap {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `contexts: [{name, context: {...}}]` → Map name → inner map. */
function namedEntries(
  document: YamlMap,
  listKey: string,
  innerKey: string,
  fail: (message: string) => never,
): Map<string, YamlMap> {
  const list = document[listKey];
  const entries = new Map<string, YamlMap>();
  if (list === undefined || list === null) return entries;
  if (!Array.isArray(list)) return fail(`${listKey} must be a list`);
  for (const [index, item] of list.entries()) {
    if (!isMap(item) || typeof item.name !== "string") return fail(`${listKey}[${index}] needs a name`);
    const inner = item[innerKey];
    if (inner !== undefined && inner !== null && !isMap(inner))
      return fail(`${listKey}[${index}].${innerKey} must be a mapping`);
    entries.set(item.name, inner ?? {});
  }
  return entries;
}

function optionalString(map: YamlMap, key: string, fail: (message: string) => never): string | undefined {
  const value = map[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") return fail(`${key} must be a string`);
  return value;
}
