/**
 * Command-line flags: the flags of upstream prometheus-adapter (README.md, Flags), with units and defaults. GNU style:
 * `--flag=value` and `--flag value`; booleans `--flag` / `--flag=false`. An unknown flag is an error that names it.
 * Upstream deployments' arguments (`--logtostderr`, `--v`, `--secure-port`, `--cert-dir`, `--config`,
 * `--prometheus-url`, `--metrics-relist-interval`) are accepted unchanged.
 *
 * NB: over 350 lines: the flag table (one entry per upstream flag, with help text) is most of it.
 */
import { DISCOVERY_MODES, type DiscoveryMode } from "./discovery/discovery-mode.ts";
import { parsePrometheusDuration, type Milliseconds } from "./util/duration.ts";
import type { AuthenticationFlags } from "./kubernetes/authentication-config.ts";

type FlagKind = "string" | "boolean" | "integer" | "duration" | "list" | "repeated";

interface FlagSpec {
  readonly kind: FlagKind;
  readonly help: string;
  /** Printed in --help; the parsed default is applied in `parseOptions`. */
  readonly defaultText?: string;
  /** Another name for the same flag. */
  readonly alias?: string;
}

/** Every flag, in --help order. */
export const FLAGS = {
  "prometheus-url": {
    kind: "string",
    help: "Prometheus or Thanos base URL; a path prefix is kept",
    defaultText: "http://localhost:9090",
  },
  config: {
    kind: "string",
    help: "prometheus-adapter rules file (YAML)",
    defaultText: "the embedded rules/default.yaml",
  },
  "metrics-relist-interval": {
    kind: "duration",
    help: "how often discovery lists series (Prometheus duration)",
    defaultText: "1m",
  },
  "metrics-max-age": {
    kind: "duration",
    help: "how far back discovery looks for series; at least the relist interval",
    defaultText: "the relist interval",
  },
  "discovery-mode": {
    kind: "string",
    help: "series (list every series), labels (ask the label index) or auto (labels if the backend filters it by match[])",
    defaultText: "auto",
  },
  "metrics-fresh-interval": {
    kind: "duration",
    help: "how often a cheap pass looks for new metric names between relists; 0s turns it off",
    defaultText: "5s",
  },
  "query-cache-ttl": {
    kind: "duration",
    help: "how long a Prometheus query result is reused; 0s disables the cache (identical queries in flight are still shared)",
    defaultText: "5s",
  },
  "secure-port": { kind: "integer", help: "HTTPS port", defaultText: "6443" },
  "bind-address": {
    kind: "string",
    help: "address to listen on",
    defaultText: "0.0.0.0 (127.0.0.1 with --standalone)",
  },
  "cert-dir": {
    kind: "string",
    help: "where a self-signed serving pair is kept or generated",
    defaultText: "apiserver.local.config/certificates",
  },
  "tls-cert-file": { kind: "string", help: "serving certificate (PEM); with --tls-private-key-file" },
  "tls-private-key-file": { kind: "string", help: "serving private key (PEM)" },
  standalone: {
    kind: "boolean",
    help: "no Kubernetes API: objects from Prometheus labels, no authentication, labelSelector answers 400",
  },
  kubeconfig: { kind: "string", help: "kubeconfig for object lookups", alias: "lister-kubeconfig" },
  "authentication-kubeconfig": { kind: "string", help: "kubeconfig for TokenReview and the authentication ConfigMap" },
  "authorization-kubeconfig": { kind: "string", help: "kubeconfig for SubjectAccessReview" },
  "client-ca-file": { kind: "string", help: "CA bundle for x509 client certificates" },
  "requestheader-client-ca-file": { kind: "string", help: "CA bundle of the front proxy" },
  "requestheader-allowed-names": { kind: "list", help: "front-proxy certificate CNs allowed; empty = any" },
  "requestheader-username-headers": {
    kind: "list",
    help: "headers holding the user name",
    defaultText: "x-remote-user",
  },
  "requestheader-group-headers": { kind: "list", help: "headers holding groups", defaultText: "x-remote-group" },
  "requestheader-extra-headers-prefix": {
    kind: "list",
    help: "header prefixes holding extra user info",
    defaultText: "x-remote-extra-",
  },
  "authentication-skip-lookup": { kind: "boolean", help: "do not read kube-system/extension-apiserver-authentication" },
  "authentication-tolerate-lookup-failure": { kind: "boolean", help: "start even if that ConfigMap cannot be read" },
  "authorization-always-allow-paths": {
    kind: "list",
    help: "paths that skip authorization",
    defaultText: "/healthz,/readyz,/livez",
  },
  "prometheus-auth-config": {
    kind: "string",
    help: "kubeconfig-style file with credentials (token, basic auth, client cert, CA) for Prometheus",
  },
  "prometheus-ca-file": { kind: "string", help: "CA bundle to verify Prometheus" },
  "prometheus-client-tls-cert-file": { kind: "string", help: "client certificate for Prometheus" },
  "prometheus-client-tls-key-file": { kind: "string", help: "client key for Prometheus" },
  "prometheus-token-file": { kind: "string", help: "bearer token file for Prometheus (re-read when it changes)" },
  "prometheus-header": {
    kind: "repeated",
    help: "extra header K=V sent to Prometheus (repeatable), e.g. X-Scope-OrgID=tenant",
  },
  "prometheus-verb": {
    kind: "string",
    help: "GET or POST for Prometheus calls; GET switches to POST above 8 KiB",
    defaultText: "GET",
  },
  "prometheus-timeout": { kind: "duration", help: "time allowed for each Prometheus query", defaultText: "10s" },
  "prometheus-series-timeout": {
    kind: "duration",
    help: "time allowed for each discovery series call (large responses take longer)",
    defaultText: "2m",
  },
  "max-requests-inflight": {
    kind: "integer",
    help: "requests served at once; more get 429 with Retry-After",
    defaultText: "512",
  },
  "shutdown-grace": {
    kind: "duration",
    help: "how long SIGTERM waits for in-flight requests before closing connections",
    defaultText: "10s",
  },
  v: { kind: "integer", help: "log verbosity (klog style)", defaultText: "0" },
  logtostderr: { kind: "boolean", help: "accepted for compatibility; logs always go to stderr" },
  "log-format": { kind: "string", help: "text or json", defaultText: "text" },
  version: { kind: "boolean", help: "print the version and exit" },
  help: { kind: "boolean", help: "print this help and exit" },
} as const satisfies Record<string, FlagSpec>;

export type FlagName = keyof typeof FLAGS;

/** Parsed flags with defaults applied. */
export interface Options {
  readonly prometheusUrl: string;
  /** undefined = the embedded default rules. */
  readonly configFile: string | undefined;
  readonly relistInterval: Milliseconds;
  readonly maxAge: Milliseconds;
  /** Incremental discovery period, ms; default 5 s; 0 = off. */
  readonly freshInterval: Milliseconds;
  /** `--discovery-mode`: how full relists learn metric shapes (discovery/discovery-mode.ts); default `auto`. */
  readonly discoveryMode: DiscoveryMode;
  readonly queryCacheTtl: Milliseconds;
  readonly securePort: number;
  readonly bindAddress: string;
  readonly certDir: string;
  readonly tlsCertFile: string | undefined;
  readonly tlsKeyFile: string | undefined;
  readonly standalone: boolean;
  readonly prometheus: {
    readonly headers: Readonly<Record<string, string>>;
    readonly tokenFile: string | undefined;
    readonly caFile: string | undefined;
    readonly clientCertFile: string | undefined;
    readonly clientKeyFile: string | undefined;
    readonly authConfigFile: string | undefined;
    readonly verb: "GET" | "POST";
    /** Per query, ms; default 10 s. */
    readonly queryTimeout: Milliseconds;
    /** Per discovery series call, ms; default 2 min. */
    readonly seriesTimeout: Milliseconds;
  };
  /** Requests served at once before 429; default 512. */
  readonly maxRequestsInFlight: number;
  /** How long shutdown waits for in-flight requests, ms; default 10 s. */
  readonly shutdownGrace: Milliseconds;
  readonly kubernetes: AuthenticationFlags & {
    readonly kubeconfig: string | undefined;
    readonly authenticationKubeconfig: string | undefined;
    readonly authorizationKubeconfig: string | undefined;
    readonly authorizationAlwaysAllowPaths: readonly string[];
  };
  readonly verbosity: number;
  readonly logFormat: "text" | "json";
  readonly showVersion: boolean;
  readonly showHelp: boolean;
}

export class OptionsError extends Error {
  override readonly name = "OptionsError";
}

type RawValue = string | boolean | string[];

/** Parses argv (without the program name). Throws OptionsError naming the flag. */
export function parseOptions(argv: readonly string[]): Options {
  const raw = new Map<FlagName, RawValue>();
  const aliases = new Map<string, FlagName>();
  for (const [name, spec] of Object.entries(FLAGS) as [FlagName, FlagSpec][])
    if (spec.alias) aliases.set(spec.alias, name);

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const match = /^--?([^=]+)(?:=(.*))?$/s.exec(arg);
    if (!match || arg === "-" || arg === "--")
      throw new OptionsError(`unexpected argument "${arg}" (flags start with --)`);
    const written = match[1] as string;
    const name = (Object.hasOwn(FLAGS, written) ? written : aliases.get(written)) as FlagName | undefined;
    if (name === undefined) throw new OptionsError(`unknown flag: --${written}`);
    const spec: FlagSpec = FLAGS[name];
    let value = match[2];
    if (spec.kind === "boolean") {
      if (value === undefined) raw.set(name, true);
      else if (value === "true" || value === "1") raw.set(name, true);
      else if (value === "false" || value === "0") raw.set(name, false);
      else throw new OptionsError(`--${written} takes true or false, got "${value}"`);
      continue;
    }
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined) throw new OptionsError(`--${written} needs a value`);
      value = next;
      i++;
    }
    if (spec.kind === "repeated") raw.set(name, [...((raw.get(name) as string[] | undefined) ?? []), value]);
    else if (spec.kind === "list") raw.set(name, value === "" ? [] : value.split(",").map((part) => part.trim()));
    else raw.set(name, value);
  }

  const text = (name: FlagName): string | undefined => raw.get(name) as string | undefined;
  const flag = (name: FlagName): boolean => raw.get(name) === true;
  const list = (name: FlagName, fallback: string[] = []): string[] =>
    (raw.get(name) as string[] | undefined) ?? fallback;
  const duration = (name: FlagName, fallback: Milliseconds): Milliseconds => {
    const value = text(name);
    if (value === undefined) return fallback;
    try {
      return parsePrometheusDuration(value);
    } catch (error) {
      throw new OptionsError(`--${name}: ${(error as Error).message}`);
    }
  };
  const integer = (name: FlagName, fallback: number, min: number, max: number): number => {
    const value = text(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value) || parsed < min || parsed > max)
      throw new OptionsError(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
    return parsed;
  };

  const positive = (name: FlagName, fallback: Milliseconds): Milliseconds => {
    const value = duration(name, fallback);
    if (value <= 0) throw new OptionsError(`--${name} must be greater than 0`);
    return value;
  };

  const standalone = flag("standalone");
  const relistInterval = duration("metrics-relist-interval", 60_000);
  if (relistInterval <= 0) throw new OptionsError("--metrics-relist-interval must be greater than 0");
  const maxAge = duration("metrics-max-age", relistInterval);
  if (maxAge < relistInterval)
    throw new OptionsError("--metrics-max-age: max age must not be less than relist interval");

  const discoveryMode = text("discovery-mode") ?? "auto";
  if (!(DISCOVERY_MODES as readonly string[]).includes(discoveryMode)) {
    throw new OptionsError(`--discovery-mode must be one of ${DISCOVERY_MODES.join(", ")}, got "${discoveryMode}"`);
  }

  const headers: Record<string, string> = {};
  for (const entry of list("prometheus-header")) {
    const eq = entry.indexOf("=");
    if (eq <= 0) throw new OptionsError(`--prometheus-header must be K=V, got "${entry}"`);
    headers[entry.slice(0, eq).trim()] = entry.slice(eq + 1);
  }
  const verb = (text("prometheus-verb") ?? "GET").toUpperCase();
  if (verb !== "GET" && verb !== "POST") throw new OptionsError(`--prometheus-verb must be GET or POST, got "${verb}"`);
  const logFormat = text("log-format") ?? "text";
  if (logFormat !== "text" && logFormat !== "json")
    throw new OptionsError(`--log-format must be text or json, got "${logFormat}"`);
  const prometheusUrl = text("prometheus-url") ?? "http://localhost:9090";
  if (!URL.canParse(prometheusUrl) || !/^https?:$/.test(new URL(prometheusUrl).protocol)) {
    throw new OptionsError(`--prometheus-url must be an http or https URL, got "${prometheusUrl}"`);
  }
  const tlsCertFile = text("tls-cert-file");
  const tlsKeyFile = text("tls-private-key-file");
  if ((tlsCertFile === undefined) !== (tlsKeyFile === undefined)) {
    throw new OptionsError("--tls-cert-file and --tls-private-key-file must be given together");
  }
  const clientCert = text("prometheus-client-tls-cert-file");
  const clientKey = text("prometheus-client-tls-key-file");
  if ((clientCert === undefined) !== (clientKey === undefined)) {
    throw new OptionsError(
      "--prometheus-client-tls-cert-file and --prometheus-client-tls-key-file must be given together",
    );
  }

  return {
    prometheusUrl,
    configFile: text("config"),
    relistInterval,
    maxAge,
    freshInterval: duration("metrics-fresh-interval", 5000),
    discoveryMode: discoveryMode as DiscoveryMode,
    queryCacheTtl: duration("query-cache-ttl", 5000),
    securePort: integer("secure-port", 6443, 0, 65535),
    bindAddress: text("bind-address") ?? (standalone ? "127.0.0.1" : "0.0.0.0"),
    certDir: text("cert-dir") ?? "apiserver.local.config/certificates",
    tlsCertFile,
    tlsKeyFile,
    standalone,
    prometheus: {
      headers,
      tokenFile: text("prometheus-token-file"),
      caFile: text("prometheus-ca-file"),
      clientCertFile: clientCert,
      clientKeyFile: clientKey,
      authConfigFile: text("prometheus-auth-config"),
      verb,
      queryTimeout: positive("prometheus-timeout", 10_000),
      seriesTimeout: positive("prometheus-series-timeout", 120_000),
    },
    maxRequestsInFlight: integer("max-requests-inflight", 512, 1, 1_000_000),
    shutdownGrace: duration("shutdown-grace", 10_000),
    kubernetes: {
      kubeconfig: text("kubeconfig"),
      authenticationKubeconfig: text("authentication-kubeconfig"),
      authorizationKubeconfig: text("authorization-kubeconfig"),
      clientCaFile: text("client-ca-file"),
      requestheaderClientCaFile: text("requestheader-client-ca-file"),
      requestheaderAllowedNames: list("requestheader-allowed-names"),
      requestheaderUsernameHeaders: list("requestheader-username-headers", ["x-remote-user"]),
      requestheaderGroupHeaders: list("requestheader-group-headers", ["x-remote-group"]),
      requestheaderExtraHeadersPrefix: list("requestheader-extra-headers-prefix", ["x-remote-extra-"]),
      authenticationSkipLookup: flag("authentication-skip-lookup"),
      authenticationTolerateLookupFailure: flag("authentication-tolerate-lookup-failure"),
      authorizationAlwaysAllowPaths: list("authorization-always-allow-paths", ["/healthz", "/readyz", "/livez"]),
    },
    verbosity: integer("v", 0, 0, 10),
    logFormat,
    showVersion: flag("version"),
    showHelp: flag("help"),
  };
}

/** The --help text, generated from FLAGS. */
export function helpText(): string {
  const lines = [
    "Usage: prom-adapter [flags]",
    "       prom-adapter check --config FILE [--prometheus-url URL] [flags]     validate rules, optionally run discovery once",
    "       prom-adapter explain [flags] <api path>                             show how a request is answered, step by step",
    "",
    "Serves the Kubernetes custom, external and resource metrics APIs from Prometheus using prometheus-adapter rules.",
    "",
    "Flags:",
  ];
  for (const [name, spec] of Object.entries(FLAGS) as [string, FlagSpec][]) {
    const head = `  --${name}${spec.kind === "boolean" ? "" : "=VALUE"}${spec.alias ? ` (alias --${spec.alias})` : ""}`;
    lines.push(`${head.padEnd(48)} ${spec.help}${spec.defaultText ? ` (default ${spec.defaultText})` : ""}`);
  }
  return `${lines.join("\n")}\n`;
}
