import { describe, expect, test } from "bun:test";
import { createMemoryLogger, silentLogger } from "../observability/logger.ts";
import { generateCertificateAuthority } from "../server/certificates.ts";
import {
  AuthenticationConfigError,
  clientCaPemsOf,
  createAuthenticationConfigSource,
  createConfigMapReader,
  type AuthenticationConfig,
  type AuthenticationFlags,
  type ConfigMapReader,
  type RefreshScheduler,
} from "./authentication-config.ts";

const now = new Date();
const CLUSTER_CA = generateCertificateAuthority({ commonName: "kubernetes", now }).certPem;
const FRONT_PROXY_CA = generateCertificateAuthority({ commonName: "front-proxy-ca", now }).certPem;
const FLAG_CLIENT_CA = generateCertificateAuthority({ commonName: "flag-client-ca", now }).certPem;
const FLAG_FRONT_PROXY_CA = generateCertificateAuthority({ commonName: "flag-front-proxy-ca", now }).certPem;

/** Flags as parseOptions gives them with no authentication flags on the command line. */
const DEFAULT_FLAGS: AuthenticationFlags = {
  clientCaFile: undefined,
  requestheaderClientCaFile: undefined,
  requestheaderAllowedNames: [],
  requestheaderUsernameHeaders: ["x-remote-user"],
  requestheaderGroupHeaders: ["x-remote-group"],
  requestheaderExtraHeadersPrefix: ["x-remote-extra-"],
  authenticationSkipLookup: false,
  authenticationTolerateLookupFailure: false,
};

/** The ConfigMap kubeadm writes. */
const KUBEADM_CONFIGMAP: Record<string, string> = {
  "client-ca-file": CLUSTER_CA,
  "requestheader-client-ca-file": FRONT_PROXY_CA,
  "requestheader-allowed-names": '["front-proxy-client"]',
  "requestheader-username-headers": '["X-Remote-User"]',
  "requestheader-group-headers": '["X-Remote-Group"]',
  "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
};

const FILES: Record<string, string> = {
  "/etc/client-ca.pem": FLAG_CLIENT_CA,
  "/etc/front-proxy-ca.pem": FLAG_FRONT_PROXY_CA,
  "/etc/junk.pem": "not a certificate",
};

/** A reader answering from `answer` (a thrown Error, null for not found), counting reads. */
function fakeReader(answer: () => Record<string, string> | null | Error) {
  const reads: string[] = [];
  const reader: ConfigMapReader = {
    async read(namespace, name) {
      reads.push(`${namespace}/${name}`);
      const result = answer();
      if (result instanceof Error) throw result;
      return result;
    },
  };
  return { reader, reads };
}

/** A scheduler whose task the test runs by hand. */
function manualScheduler() {
  const scheduled: { intervalMs: number; task: () => void; stopped: boolean }[] = [];
  const scheduler: RefreshScheduler = {
    every(intervalMs, task) {
      const entry = { intervalMs, task, stopped: false };
      scheduled.push(entry);
      return () => {
        entry.stopped = true;
      };
    },
  };
  return { scheduler, scheduled };
}

function sourceWith(
  flags: Partial<AuthenticationFlags>,
  answer: () => Record<string, string> | null | Error,
  logger = silentLogger,
) {
  const { reader, reads } = fakeReader(answer);
  const { scheduler, scheduled } = manualScheduler();
  const source = createAuthenticationConfigSource({
    flags: { ...DEFAULT_FLAGS, ...flags },
    reader,
    logger,
    scheduler,
    readTextFile: async (path) => {
      const text = FILES[path];
      if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
      return text;
    },
  });
  return { source, reads, scheduled };
}

describe("the authentication configuration from the ConfigMap", () => {
  test("reads every key of kube-system/extension-apiserver-authentication", async () => {
    const { source, reads } = sourceWith({}, () => ({
      ...KUBEADM_CONFIGMAP,
      "requestheader-uid-headers": '["X-Remote-Uid"]',
    }));
    expect(source.isLoaded()).toBe(false);
    await source.start();
    expect(reads).toEqual(["kube-system/extension-apiserver-authentication"]);
    expect(source.isLoaded()).toBe(true);
    expect(source.current()).toEqual({
      clientCaPem: CLUSTER_CA,
      requestHeader: {
        caPem: FRONT_PROXY_CA,
        allowedNames: ["front-proxy-client"],
        usernameHeaders: ["X-Remote-User"],
        uidHeaders: ["X-Remote-Uid"],
        groupHeaders: ["X-Remote-Group"],
        extraHeaderPrefixes: ["X-Remote-Extra-"],
      },
    });
  });

  test.each([
    { name: "empty strings", value: "" },
    { name: "empty JSON arrays", value: "[]" },
    { name: "JSON null", value: "null" },
  ])("treats $name as unset: any CN, the x-remote-* defaults and no uid header", async ({ value }) => {
    const data = { "requestheader-client-ca-file": FRONT_PROXY_CA } as Record<string, string>;
    for (const key of [
      "requestheader-allowed-names",
      "requestheader-username-headers",
      "requestheader-group-headers",
      "requestheader-extra-headers-prefix",
      "requestheader-uid-headers",
    ]) {
      data[key] = value;
    }
    const { source } = sourceWith({}, () => data);
    await source.start();
    expect(source.current()).toEqual({
      clientCaPem: undefined,
      requestHeader: {
        caPem: FRONT_PROXY_CA,
        allowedNames: [],
        usernameHeaders: ["x-remote-user"],
        uidHeaders: [],
        groupHeaders: ["x-remote-group"],
        extraHeaderPrefixes: ["x-remote-extra-"],
      },
    });
  });

  test("turns front-proxy authentication off when the ConfigMap has no requestheader CA, whatever the header keys say", async () => {
    const { source } = sourceWith({}, () => ({
      "client-ca-file": CLUSTER_CA,
      "requestheader-client-ca-file": "",
      "requestheader-username-headers": '["X-Remote-User"]',
    }));
    await source.start();
    expect(source.current()).toEqual({ clientCaPem: CLUSTER_CA, requestHeader: undefined });
  });

  test("configures nothing when the ConfigMap does not exist", async () => {
    const { source } = sourceWith({}, () => null);
    await source.start();
    expect({ loaded: source.isLoaded(), config: source.current() }).toEqual({
      loaded: true,
      config: { clientCaPem: undefined, requestHeader: undefined },
    });
  });
});

describe("the authentication configuration from the flags", () => {
  test("--client-ca-file replaces the ConfigMap's client CA and keeps its requestheader part", async () => {
    const { source } = sourceWith({ clientCaFile: "/etc/client-ca.pem" }, () => KUBEADM_CONFIGMAP);
    await source.start();
    expect(source.current().clientCaPem).toBe(FLAG_CLIENT_CA);
    expect(source.current().requestHeader?.caPem).toBe(FRONT_PROXY_CA);
  });

  test("--requestheader-client-ca-file replaces every requestheader key of the ConfigMap", async () => {
    const { source } = sourceWith(
      {
        requestheaderClientCaFile: "/etc/front-proxy-ca.pem",
        requestheaderAllowedNames: ["aggregator"],
        requestheaderUsernameHeaders: ["x-user"],
      },
      () => ({ ...KUBEADM_CONFIGMAP, "requestheader-uid-headers": '["X-Remote-Uid"]' }),
    );
    await source.start();
    expect(source.current()).toEqual({
      clientCaPem: CLUSTER_CA,
      requestHeader: {
        caPem: FLAG_FRONT_PROXY_CA,
        allowedNames: ["aggregator"],
        usernameHeaders: ["x-user"],
        uidHeaders: [],
        groupHeaders: ["x-remote-group"],
        extraHeaderPrefixes: ["x-remote-extra-"],
      },
    });
  });

  test("does not read the ConfigMap when both CA flags are given", async () => {
    const { source, reads } = sourceWith(
      { clientCaFile: "/etc/client-ca.pem", requestheaderClientCaFile: "/etc/front-proxy-ca.pem" },
      () => new Error("must not be read"),
    );
    await source.start();
    expect(reads).toEqual([]);
    expect(clientCaPemsOf(source.current())).toEqual([FLAG_CLIENT_CA, FLAG_FRONT_PROXY_CA]);
  });

  test("does not read the ConfigMap with --authentication-skip-lookup", async () => {
    const { source, reads } = sourceWith({ authenticationSkipLookup: true }, () => new Error("must not be read"));
    await source.start();
    expect(reads).toEqual([]);
    expect(source.current()).toEqual({ clientCaPem: undefined, requestHeader: undefined });
  });

  test.each([
    {
      name: "a missing --client-ca-file",
      flags: { clientCaFile: "/etc/missing.pem" },
      message: "--client-ca-file /etc/missing.pem: ENOENT",
    },
    {
      name: "a --requestheader-client-ca-file without certificates",
      flags: { requestheaderClientCaFile: "/etc/junk.pem" },
      message: "holds no PEM certificate",
    },
  ])("refuses to start with $name, even when lookup failures are tolerated", async ({ flags, message }) => {
    const { source } = sourceWith({ ...flags, authenticationTolerateLookupFailure: true }, () => KUBEADM_CONFIGMAP);
    const failure = await source.start().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AuthenticationConfigError);
    expect((failure as Error).message).toContain(message);
    expect(source.isLoaded()).toBe(false);
  });
});

describe("ConfigMap failures", () => {
  test.each([
    { name: "the read fails", answer: () => new Error("connection refused"), message: "connection refused" },
    {
      name: "a list is not JSON",
      answer: () => ({ ...KUBEADM_CONFIGMAP, "requestheader-group-headers": "X-Remote-Group" }),
      message: "requestheader-group-headers",
    },
    {
      name: "a list holds a non-string",
      answer: () => ({ ...KUBEADM_CONFIGMAP, "requestheader-allowed-names": "[1]" }),
      message: "requestheader-allowed-names",
    },
    {
      name: "a CA is not PEM",
      answer: () => ({ ...KUBEADM_CONFIGMAP, "client-ca-file": "garbage" }),
      message: "client-ca-file",
    },
  ])("stop the start when $name", async ({ answer, message }) => {
    const { source } = sourceWith({}, answer);
    const failure = await source.start().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AuthenticationConfigError);
    expect((failure as Error).message).toContain(
      "cannot read configmap kube-system/extension-apiserver-authentication",
    );
    expect((failure as Error).message).toContain(message);
  });

  test("with --authentication-tolerate-lookup-failure the start goes on with the flags and a later re-read picks the ConfigMap up", async () => {
    const logger = createMemoryLogger();
    let answer: Record<string, string> | Error = new Error("forbidden");
    const { source, scheduled } = sourceWith(
      { authenticationTolerateLookupFailure: true, clientCaFile: "/etc/client-ca.pem" },
      () => answer,
      logger,
    );
    const changes: AuthenticationConfig[] = [];
    source.onChange((config) => changes.push(config));
    await source.start();
    expect(source.isLoaded()).toBe(true);
    expect(source.current()).toEqual({ clientCaPem: FLAG_CLIENT_CA, requestHeader: undefined });
    expect(logger.lines.some((line) => line.includes("forbidden") && line.startsWith("W"))).toBe(true);
    answer = KUBEADM_CONFIGMAP;
    scheduled[0]!.task();
    await source.refresh();
    expect(source.current().requestHeader?.caPem).toBe(FRONT_PROXY_CA);
    expect(changes.map((config) => config.requestHeader?.caPem)).toEqual([undefined, FRONT_PROXY_CA]);
  });
});

describe("re-reading", () => {
  test("re-reads every 60 s, tells listeners about changes only, and stops when asked", async () => {
    let data: Record<string, string> = { "client-ca-file": CLUSTER_CA };
    const { source, reads, scheduled } = sourceWith({}, () => data);
    const changes: AuthenticationConfig[] = [];
    const unsubscribe = source.onChange((config) => changes.push(config));
    await source.start();
    expect(scheduled.map((entry) => entry.intervalMs)).toEqual([60_000]);
    await source.refresh();
    expect(changes).toHaveLength(1);
    data = KUBEADM_CONFIGMAP;
    await source.refresh();
    expect(reads).toHaveLength(3);
    expect(changes.map(clientCaPemsOf)).toEqual([[CLUSTER_CA], [CLUSTER_CA, FRONT_PROXY_CA]]);
    unsubscribe();
    data = { "client-ca-file": FRONT_PROXY_CA };
    await source.refresh();
    expect(changes).toHaveLength(2);
    expect(source.current().clientCaPem).toBe(FRONT_PROXY_CA);
    source.stop();
    expect(scheduled[0]!.stopped).toBe(true);
  });

  test("keeps the last good configuration when a re-read fails", async () => {
    const logger = createMemoryLogger();
    let answer: Record<string, string> | Error = KUBEADM_CONFIGMAP;
    const { source } = sourceWith({}, () => answer, logger);
    await source.start();
    answer = new Error("etcd timeout");
    await source.refresh();
    answer = { ...KUBEADM_CONFIGMAP, "requestheader-username-headers": "{" };
    await source.refresh();
    expect(source.current().requestHeader?.usernameHeaders).toEqual(["X-Remote-User"]);
    expect(logger.lines.filter((line) => line.startsWith("W"))).toHaveLength(2);
  });

  test("concurrent refreshes share one read", async () => {
    const { source, reads } = sourceWith({}, () => KUBEADM_CONFIGMAP);
    await source.start();
    await Promise.all([source.refresh(), source.refresh(), source.refresh()]);
    expect(reads).toHaveLength(2);
  });
});

describe("createConfigMapReader", () => {
  test("returns the data, {} for a ConfigMap without data, and null for one that does not exist", async () => {
    const answers: Record<string, unknown> = {
      full: { data: { a: "1" } },
      bare: {},
      missing: Object.assign(new Error("HTTP-Code: 404"), { code: 404 }),
    };
    const requested: unknown[] = [];
    const reader = createConfigMapReader({
      async readNamespacedConfigMap(param) {
        requested.push(param);
        const answer = answers[param.name];
        if (answer instanceof Error) throw answer;
        return answer as object;
      },
    });
    expect([
      await reader.read("kube-system", "full"),
      await reader.read("kube-system", "bare"),
      await reader.read("kube-system", "missing"),
    ]).toEqual([{ a: "1" }, {}, null]);
    expect(requested[0]).toEqual({ name: "full", namespace: "kube-system" });
  });

  test("explains a 403 with the RoleBinding that fixes it", async () => {
    const reader = createConfigMapReader({
      readNamespacedConfigMap: async () => {
        throw Object.assign(new Error("HTTP-Code: 403"), { code: 403 });
      },
    });
    await expect(reader.read("kube-system", "extension-apiserver-authentication")).rejects.toThrow(
      "--role=extension-apiserver-authentication-reader",
    );
  });
});
