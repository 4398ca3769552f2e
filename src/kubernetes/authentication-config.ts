/**
 * The effective client-authentication configuration (docs/api.md, Authentication): the x509 client CA and the
 * front-proxy (request header) settings, from the flags when given, else from ConfigMap
 * `kube-system/extension-apiserver-authentication`, re-read every minute.
 *
 * Like k8s.io/apiserver's DelegatingAuthenticationOptions, each part is taken whole from one source:
 * `--client-ca-file` replaces the ConfigMap's `client-ca-file`, and `--requestheader-client-ca-file` replaces all of
 * the ConfigMap's `requestheader-*` keys. The ConfigMap is not read when both flags are given or with
 * `--authentication-skip-lookup`. A ConfigMap that does not exist configures nothing; one that cannot be read (or
 * holds values that do not parse) stops the start unless `--authentication-tolerate-lookup-failure`. After the start a
 * failed re-read keeps the last good configuration.
 *
 * NB: over 350 lines: the ConfigMap's keys, the flags that override them and the periodic re-read form one
 * contract with k8s.io/apiserver's DelegatingAuthenticationOptions, kept in one place.
 */
import type { V1ConfigMap } from "@kubernetes/client-node";
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Logger } from "../observability/logger.ts";

export const AUTHENTICATION_CONFIGMAP_NAMESPACE = "kube-system";
export const AUTHENTICATION_CONFIGMAP_NAME = "extension-apiserver-authentication";

/** Front-proxy authentication settings; present only when a request-header CA is configured. */
export interface RequestHeaderConfig {
  /** PEM bundle of the front-proxy CA. */
  readonly caPem: string;
  /** CNs a front-proxy certificate may have; empty = any certificate signed by the CA. */
  readonly allowedNames: readonly string[];
  /** Headers holding the user name, e.g. `x-remote-user`. */
  readonly usernameHeaders: readonly string[];
  /** Headers holding the user's uid; usually none. */
  readonly uidHeaders: readonly string[];
  /** Headers holding groups, e.g. `x-remote-group`. */
  readonly groupHeaders: readonly string[];
  /** Header-name prefixes holding extra attributes, e.g. `x-remote-extra-`. */
  readonly extraHeaderPrefixes: readonly string[];
}

/** What authentication trusts. Both parts absent = only bearer tokens and anonymous requests. */
export interface AuthenticationConfig {
  /** PEM bundle for x509 client certificates; undefined = x509 authentication off. */
  readonly clientCaPem: string | undefined;
  /** Undefined = front-proxy authentication off. */
  readonly requestHeader: RequestHeaderConfig | undefined;
}

/** The flags this configuration reads; `Options["kubernetes"]` carries them. File paths are undefined when unset. */
export interface AuthenticationFlags {
  readonly clientCaFile: string | undefined;
  readonly requestheaderClientCaFile: string | undefined;
  readonly requestheaderAllowedNames: readonly string[];
  readonly requestheaderUsernameHeaders: readonly string[];
  readonly requestheaderGroupHeaders: readonly string[];
  readonly requestheaderExtraHeadersPrefix: readonly string[];
  /** Do not read the extension-apiserver-authentication ConfigMap. */
  readonly authenticationSkipLookup: boolean;
  /** Start without the ConfigMap when it cannot be read. */
  readonly authenticationTolerateLookupFailure: boolean;
}

/** Reads a ConfigMap's `data`. */
export interface ConfigMapReader {
  /** The ConfigMap's data (`{}` when it has none), or null when it does not exist. Throws when it cannot be read. */
  read(namespace: string, name: string): Promise<Record<string, string> | null>;
}

/** The part of client-node's `CoreV1Api` used here. */
export interface ConfigMapApi {
  readNamespacedConfigMap(param: { name: string; namespace: string }): Promise<V1ConfigMap>;
}

/** Runs a task periodically; returns a function that stops it. */
export interface RefreshScheduler {
  every(intervalMs: number, task: () => void): () => void;
}

/** The configuration could not be loaded at start; the message says what to fix. */
export class AuthenticationConfigError extends Error {
  override readonly name = "AuthenticationConfigError";
}

/** A ConfigMapReader over the Kubernetes API. A 403 gets the RoleBinding hint k8s.io/apiserver logs. */
export function createConfigMapReader(api: ConfigMapApi): ConfigMapReader {
  return {
    async read(namespace, name) {
      try {
        const configMap = await api.readNamespacedConfigMap({ name, namespace });
        return { ...(configMap.data ?? {}) };
      } catch (error) {
        const code = (error as { code?: unknown } | null)?.code;
        if (code === 404) return null;
        if (code === 403) {
          throw new Error(
            `forbidden to get configmap/${name} in ${namespace}; usually fixed by ` +
              `'kubectl create rolebinding -n ${namespace} ROLEBINDING_NAME --role=extension-apiserver-authentication-reader --serviceaccount=YOUR_NS:YOUR_SA'`,
            { cause: error },
          );
        }
        throw new Error(
          `cannot get configmap/${name} in ${namespace}: ${typeof code === "number" ? `HTTP ${code}` : (error as Error).message}`,
          { cause: error },
        );
      }
    },
  };
}

/** The CA bundles the HTTPS listener should name when it requests a client certificate. */
export function clientCaPemsOf(config: AuthenticationConfig): string[] {
  return [config.clientCaPem, config.requestHeader?.caPem].filter((pem): pem is string => pem !== undefined);
}

/** The authentication configuration, kept current. */
export interface AuthenticationConfigSource {
  /** The configuration in force; both parts absent until `start` has loaded it. */
  current(): AuthenticationConfig;
  /** Whether the first load is done (for /readyz). */
  isLoaded(): boolean;
  /**
   * Loads the configuration and starts re-reading it every refresh interval. Throws AuthenticationConfigError when a
   * flag's file cannot be read, or the ConfigMap cannot be read and failures are not tolerated.
   */
  start(): Promise<void>;
  /** Re-reads now; a failure is logged and keeps the configuration in force. Concurrent calls share one read. */
  refresh(): Promise<void>;
  /** Calls `listener` after every change, including the first load; returns a function that unsubscribes. */
  onChange(listener: (config: AuthenticationConfig) => void): () => void;
  /** Stops the periodic re-reads. */
  stop(): void;
}

/** Dependencies of {@link createAuthenticationConfigSource}. */
export interface AuthenticationConfigSourceDeps {
  readonly flags: AuthenticationFlags;
  /** Reads the ConfigMap; unused when both CA flags are given or lookups are skipped. */
  readonly reader: ConfigMapReader;
  readonly logger: Logger;
  /** Reads a flag's file as text; default node:fs. */
  readonly readTextFile?: (path: string) => Promise<string>;
  /** Default: setInterval, not keeping the process alive. */
  readonly scheduler?: RefreshScheduler;
  /** Time between re-reads in ms; default 60 000. */
  readonly refreshIntervalMs?: number;
}

const EMPTY_CONFIG: AuthenticationConfig = { clientCaPem: undefined, requestHeader: undefined };

const intervalScheduler: RefreshScheduler = {
  every(intervalMs, task) {
    const timer = setInterval(task, intervalMs);
    timer.unref?.();
    return () => clearInterval(timer);
  },
};

/** A value of the flags or ConfigMap that is unusable; the message names it. */
class InvalidSettingError extends Error {
  override readonly name = "InvalidSettingError";
}

export function createAuthenticationConfigSource({
  flags,
  reader,
  logger,
  readTextFile = (path) => readFile(path, "utf8"),
  scheduler = intervalScheduler,
  refreshIntervalMs = 60_000,
}: AuthenticationConfigSourceDeps): AuthenticationConfigSource {
  let config = EMPTY_CONFIG;
  let configJson = JSON.stringify(config);
  let loaded = false;
  let stopTimer: (() => void) | undefined;
  let refreshing: Promise<void> | undefined;
  const listeners = new Set<(config: AuthenticationConfig) => void>();
  const lookupNeeded =
    !flags.authenticationSkipLookup &&
    (flags.clientCaFile === undefined || flags.requestheaderClientCaFile === undefined);

  function apply(next: AuthenticationConfig): void {
    const nextJson = JSON.stringify(next);
    if (loaded && nextJson === configJson) return;
    config = next;
    configJson = nextJson;
    loaded = true;
    for (const listener of listeners) {
      try {
        listener(next);
      } catch (error) {
        logger.error("authentication configuration listener failed", { error: (error as Error).message });
      }
    }
  }

  /** Reads every source. Flag-file problems throw; ConfigMap problems are returned so the caller decides. */
  async function read(): Promise<{ config: AuthenticationConfig; lookupError?: Error }> {
    const fromFlags = await readFlagFiles();
    if (!lookupNeeded) return { config: combine(fromFlags, undefined) };
    try {
      const data = await reader.read(AUTHENTICATION_CONFIGMAP_NAMESPACE, AUTHENTICATION_CONFIGMAP_NAME);
      return { config: combine(fromFlags, parseConfigMap(data ?? {})) };
    } catch (error) {
      return { config: combine(fromFlags, undefined), lookupError: error as Error };
    }
  }

  async function readFlagFiles(): Promise<{ clientCaPem?: string; requestHeaderCaPem?: string }> {
    const readBundle = async (flag: string, path: string | undefined) => {
      if (path === undefined) return undefined;
      let text: string;
      try {
        text = await readTextFile(path);
      } catch (error) {
        throw new InvalidSettingError(`--${flag} ${path}: ${(error as Error).message}`);
      }
      return validBundle(`--${flag} ${path}`, text);
    };
    const clientCaPem = await readBundle("client-ca-file", flags.clientCaFile);
    const requestHeaderCaPem = await readBundle("requestheader-client-ca-file", flags.requestheaderClientCaFile);
    return {
      ...(clientCaPem !== undefined ? { clientCaPem } : {}),
      ...(requestHeaderCaPem !== undefined ? { requestHeaderCaPem } : {}),
    };
  }

  function combine(
    fromFlags: { clientCaPem?: string; requestHeaderCaPem?: string },
    fromConfigMap: AuthenticationConfig | undefined,
  ): AuthenticationConfig {
    const requestHeader: RequestHeaderConfig | undefined =
      fromFlags.requestHeaderCaPem !== undefined
        ? {
            caPem: fromFlags.requestHeaderCaPem,
            allowedNames: [...flags.requestheaderAllowedNames],
            usernameHeaders: [...flags.requestheaderUsernameHeaders],
            uidHeaders: [],
            groupHeaders: [...flags.requestheaderGroupHeaders],
            extraHeaderPrefixes: [...flags.requestheaderExtraHeadersPrefix],
          }
        : fromConfigMap?.requestHeader;
    return { clientCaPem: fromFlags.clientCaPem ?? fromConfigMap?.clientCaPem, requestHeader };
  }

  /** The ConfigMap's settings; header lists it leaves unset fall back to the flags (defaults `x-remote-*`). */
  function parseConfigMap(data: Record<string, string>): AuthenticationConfig {
    const where = (key: string) =>
      `${key} in configmap ${AUTHENTICATION_CONFIGMAP_NAMESPACE}/${AUTHENTICATION_CONFIGMAP_NAME}`;
    const text = (key: string) => (data[key] === undefined || data[key] === "" ? undefined : data[key]);
    const list = (key: string, fallback: readonly string[]): string[] => {
      const value = text(key);
      if (value === undefined) return [...fallback];
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        throw new InvalidSettingError(`${where(key)} is not a JSON array of strings: ${value}`);
      }
      if (parsed === null) return [...fallback];
      if (!Array.isArray(parsed) || parsed.some((item) => typeof item !== "string")) {
        throw new InvalidSettingError(`${where(key)} is not a JSON array of strings: ${value}`);
      }
      const strings = (parsed as string[]).filter((item) => item !== "");
      return strings.length > 0 ? strings : [...fallback];
    };
    const clientCa = text("client-ca-file");
    const requestHeaderCa = text("requestheader-client-ca-file");
    return {
      clientCaPem: clientCa === undefined ? undefined : validBundle(where("client-ca-file"), clientCa),
      requestHeader:
        requestHeaderCa === undefined
          ? undefined
          : {
              caPem: validBundle(where("requestheader-client-ca-file"), requestHeaderCa),
              // NB: falling back to --requestheader-allowed-names when the ConfigMap lists none can only narrow whom
              // the front proxy may be, never widen it.
              allowedNames: list("requestheader-allowed-names", flags.requestheaderAllowedNames),
              usernameHeaders: list("requestheader-username-headers", flags.requestheaderUsernameHeaders),
              uidHeaders: list("requestheader-uid-headers", []),
              groupHeaders: list("requestheader-group-headers", flags.requestheaderGroupHeaders),
              extraHeaderPrefixes: list("requestheader-extra-headers-prefix", flags.requestheaderExtraHeadersPrefix),
            },
    };
  }

  async function refreshNow(): Promise<void> {
    try {
      const { config: next, lookupError } = await read();
      if (lookupError) {
        logger.warn("cannot re-read the authentication configuration; keeping the last one", {
          error: lookupError.message,
        });
        return;
      }
      apply(next);
    } catch (error) {
      logger.warn("cannot re-read the authentication configuration; keeping the last one", {
        error: (error as Error).message,
      });
    }
  }

  function refresh(): Promise<void> {
    refreshing ??= refreshNow().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  }

  return {
    current: () => config,
    isLoaded: () => loaded,
    async start() {
      let result: { config: AuthenticationConfig; lookupError?: Error };
      try {
        result = await read();
      } catch (error) {
        throw new AuthenticationConfigError(
          `cannot load the client authentication configuration: ${(error as Error).message}`,
        );
      }
      if (result.lookupError) {
        const message = `cannot read configmap ${AUTHENTICATION_CONFIGMAP_NAMESPACE}/${AUTHENTICATION_CONFIGMAP_NAME}: ${result.lookupError.message}`;
        if (!flags.authenticationTolerateLookupFailure) {
          throw new AuthenticationConfigError(
            `${message} (pass --authentication-tolerate-lookup-failure to start without it)`,
          );
        }
        logger.warn(`${message}; continuing with the flags only and retrying every ${refreshIntervalMs / 1000}s`);
      }
      apply(result.config);
      stopTimer?.();
      stopTimer = scheduler.every(refreshIntervalMs, () => void refresh());
    },
    refresh,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      stopTimer?.();
      stopTimer = undefined;
    },
  };
}

/** `text` when it holds at least one certificate; every PEM block must parse. */
function validBundle(where: string, text: string): string {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new InvalidSettingError(`${where} holds no PEM certificate`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new InvalidSettingError(`${where} holds a certificate that does not parse: ${(error as Error).message}`);
    }
  }
  return text;
}
