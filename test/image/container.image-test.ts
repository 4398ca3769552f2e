/**
 * The built container image, run the way deploy/manifests/deployment.yaml runs it, against a real Prometheus and the
 * kube-apiserver stand-in as the in-cluster API: the manifest's arguments, read-only root, user 65532, no
 * capabilities, no-new-privileges, a 512 MiB limit, a tmpfs only where the manifest mounts an emptyDir, the rules as
 * a read-only ConfigMap-style directory (kubelet's `..data` symlink layout) and the service-account token directory.
 *
 * NB: named `*.image-test.ts`, not `*.test.ts`, so `npm test` does not pick it up: it needs dockerd and a built
 * image, which deploy/test-image.sh provides (it sets PROM_ADAPTER_IMAGE and runs this file last in .ci/run).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { delegatedAuthenticationRules, startKubeApiServer, type KubeApiServer } from "../support/kube-apiserver.ts";
import { REPO_ROOT } from "../support/process.ts";
import { freePort, prometheusSkipReason, startExporter, startPrometheus } from "../support/prometheus.ts";
import type { Exporter, RunningPrometheus } from "../support/prometheus.ts";
import { startContainer, type RunningContainer } from "./container.ts";
import { kubectlRaw } from "./kubectl-raw.ts";

setDefaultTimeout(120_000);
const IMAGE = process.env.PROM_ADAPTER_IMAGE ?? "";
/** The commit passed to the build as PROM_ADAPTER_GIT_COMMIT, if known. */
const COMMIT = process.env.PROM_ADAPTER_IMAGE_COMMIT ?? "";
const kubectl = Bun.which("kubectl");
const skip =
  IMAGE === ""
    ? "PROM_ADAPTER_IMAGE is not set (run deploy/test-image.sh, which builds the image)"
    : (prometheusSkipReason() ?? (kubectl === null ? "kubectl not found on PATH" : null));
if (skip) console.warn(`SKIPPED image test: ${skip}`);

const ADAPTER = "system:serviceaccount:custom-metrics:prom-adapter";
const READER = "jane";
/** Kubernetes' default terminationGracePeriodSeconds, which the Deployment keeps. */
const GRACE_SECONDS = 30;
const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

interface ManifestContainer {
  args: string[];
  resources: { limits: { memory: string } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface ManifestVolume {
  name: string;
  emptyDir?: { medium?: string; sizeLimit?: string };
  configMap?: { name: string };
}
const deployment = parseYaml(readFileSync(join(REPO_ROOT, "deploy", "manifests", "deployment.yaml"), "utf8")) as {
  spec: { template: { spec: { containers: ManifestContainer[]; volumes: ManifestVolume[] } } };
};
const podSpec = deployment.spec.template.spec;
const manifest = podSpec.containers[0]!;

// NB: scraped, not backfilled: discovery only sees series with a sample within --metrics-max-age (the relist
// interval, 1m in the manifest), and the reload check comes 30 s or more after the start.
const EXPORTED = `# TYPE requests_per_second gauge
requests_per_second{namespace="default",pod="podinfo-a"} 0.6
requests_per_second{namespace="default",pod="podinfo-b"} 1.5
# TYPE jobs_waiting gauge
jobs_waiting{namespace="default",pod="podinfo-a"} 2
`;
const rulesFor = (names: readonly string[]) => `rules:
- seriesQuery: '{__name__=~"^(${names.join("|")})$",namespace!="",pod!=""}'
  resources: {template: <<.Resource>>}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
`;

/**
 * A directory laid out as the kubelet mounts a ConfigMap: the data in a timestamped directory, `..data` pointing at
 * it, and each key a symlink through `..data`. {@link swap} replaces the data as the kubelet does on an update.
 */
function configMapDirectory(root: string, data: Record<string, string>) {
  mkdirSync(root, { mode: 0o755 });
  let version = 0;
  const writeVersion = (values: Record<string, string>) => {
    version += 1;
    const name = `..2026_01_01_00_00_0${version}.000000000`;
    mkdirSync(join(root, name), { mode: 0o755 });
    for (const [key, value] of Object.entries(values)) writeFileSync(join(root, name, key), value, { mode: 0o644 });
    return name;
  };
  symlinkSync(writeVersion(data), join(root, "..data"));
  for (const key of Object.keys(data)) symlinkSync(join("..data", key), join(root, key));
  return {
    /** Writes a new data directory, points `..data_tmp` at it and renames that over `..data` (atomic). */
    swap(values: Record<string, string>) {
      symlinkSync(writeVersion(values), join(root, "..data_tmp"));
      renameSync(join(root, "..data_tmp"), join(root, "..data"));
    },
  };
}

/** The manifest's args with only what cannot hold here replaced: Prometheus' address, the port, and 127.0.0.1. */
function containerArgs(prometheusUrl: string, port: number): string[] {
  const replaced = manifest.args.map((arg) => {
    if (arg.startsWith("--prometheus-url=")) return `--prometheus-url=${prometheusUrl}/`;
    if (arg.startsWith("--secure-port=")) return `--secure-port=${port}`;
    return arg;
  });
  return [...replaced, "--bind-address=127.0.0.1"];
}

/** A Kubernetes quantity in Mi or Gi as docker writes it (`512Mi` → `512m`). */
function dockerSize(quantity: string): string {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`no docker size for the quantity ${quantity}`);
  return `${match[1]}${match[2] === "Mi" ? "m" : "g"}`;
}

/** `docker run` options for the manifest's volumes: a tmpfs per emptyDir, a read-only bind for the ConfigMap. */
function volumeOptions(configDir: string): string[] {
  return manifest.volumeMounts.flatMap((mount) => {
    const volume = podSpec.volumes.find((candidate) => candidate.name === mount.name);
    if (volume?.emptyDir) {
      return ["--tmpfs", `${mount.mountPath}:rw,noexec,nosuid,size=${dockerSize(volume.emptyDir.sizeLimit ?? "64Mi")}`];
    }
    if (volume?.configMap) return ["--volume", `${configDir}:${mount.mountPath}:ro`];
    throw new Error(`no stand-in for the volume of mount ${mount.name}`);
  });
}

describe.skipIf(skip !== null)(`the image ${IMAGE} run as the Deployment runs it`, () => {
  let cluster: KubeApiServer;
  let prometheus: RunningPrometheus;
  let exporter: Exporter;
  let container: RunningContainer;
  let work: string;
  let config: ReturnType<typeof configMapDirectory>;
  let port: number;
  const raw = (path: string) => kubectlRaw(kubectl!, `https://127.0.0.1:${port}`, "reader-token", path, work);
  const https = (path: string, host = "127.0.0.1") =>
    fetch(`https://${host}:${port}${path}`, { tls: { rejectUnauthorized: false } } as RequestInit);

  beforeAll(async () => {
    if (skip) return;
    cluster = await startKubeApiServer();
    cluster.setObjects({ group: "", resource: "pods" }, [
      { name: "podinfo-a", namespace: "default", labels: { app: "podinfo" } },
      { name: "podinfo-b", namespace: "default", labels: { app: "podinfo" } },
    ]);
    cluster.setTokens({
      "adapter-token": {
        username: ADAPTER,
        groups: ["system:serviceaccounts", "system:serviceaccounts:custom-metrics"],
      },
      "reader-token": { username: READER, groups: ["dev"] },
    });
    cluster.setPolicy([
      ...delegatedAuthenticationRules({ users: [ADAPTER] }),
      { users: [ADAPTER], verbs: ["get", "list", "watch"], apiGroups: [""], resources: ["pods", "namespaces"] },
      { users: [READER], verbs: ["get", "list"], apiGroups: ["custom.metrics.k8s.io"], resources: ["*"] },
    ]);
    exporter = startExporter(() => EXPORTED);
    prometheus = await startPrometheus({ scrapeTargets: [exporter.target] });
    // The samples of scrape n are queryable once scrape n + 1 has been sent.
    await exporter.scraped(2);

    work = mkdtempSync(join(tmpdir(), "prom-adapter-image-"));
    // NB: the container user 65532 must traverse the mounted directories: mkdtemp makes them 0700.
    chmodSync(work, 0o755);
    const serviceAccount = join(work, "serviceaccount");
    mkdirSync(serviceAccount, { mode: 0o755 });
    writeFileSync(join(serviceAccount, "token"), "adapter-token", { mode: 0o644 });
    writeFileSync(join(serviceAccount, "ca.crt"), cluster.caPem, { mode: 0o644 });
    writeFileSync(join(serviceAccount, "namespace"), "custom-metrics", { mode: 0o644 });
    const configDir = join(work, "adapter-config");
    config = configMapDirectory(configDir, { "config.yaml": rulesFor(["requests_per_second"]) });

    port = await freePort();
    container = await startContainer({
      image: IMAGE,
      args: containerArgs(prometheus.url, port),
      options: [
        "--network=host",
        "--read-only",
        "--user=65532:65532",
        "--cap-drop=ALL",
        "--security-opt=no-new-privileges",
        `--memory=${dockerSize(manifest.resources.limits.memory)}`,
        ...volumeOptions(configDir),
        "--volume",
        `${serviceAccount}:${SERVICE_ACCOUNT_DIR}:ro`,
        "--env",
        "KUBERNETES_SERVICE_HOST=127.0.0.1",
        "--env",
        `KUBERNETES_SERVICE_PORT=${cluster.port}`,
      ],
    });
    await container.waitForLog("serving");
    await container.waitForLog("discovery finished");
  });

  afterAll(async () => {
    await container?.remove();
    await prometheus?.stop();
    await exporter?.stop();
    await cluster?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("runs with the manifest's args as 65532, read-only, without capabilities or privilege escalation", async () => {
    const inspected = await container.inspect();
    expect(inspected.Args).toEqual(containerArgs(prometheus.url, port));
    expect(inspected.HostConfig).toMatchObject({
      ReadonlyRootfs: true,
      CapDrop: ["ALL"],
      Memory: 512 * 1024 * 1024,
      NetworkMode: "host",
    });
    expect(inspected.HostConfig.SecurityOpt).toContain("no-new-privileges");
    // What the kernel says about the running process, not what docker was asked for.
    const status = readFileSync(`/proc/${inspected.State.Pid}/status`, "utf8");
    expect(status).toMatch(/^Uid:\t65532\t65532\t65532\t65532$/m);
    expect(status).toMatch(/^Gid:\t65532\t65532\t65532\t65532$/m);
    expect(status).toMatch(/^CapEff:\t0000000000000000$/m);
    expect(status).toMatch(/^CapBnd:\t0000000000000000$/m);
    expect(status).toMatch(/^NoNewPrivs:\t1$/m);
    // The mounts the process sees: read-only root and rules, a tmpfs only for the emptyDir.
    const mounts = readFileSync(`/proc/${inspected.State.Pid}/mountinfo`, "utf8")
      .trim()
      .split("\n")
      .map((line) => {
        const [before, after] = line.split(" - ") as [string, string];
        const fields = before.split(" ");
        return { path: fields[4]!, readOnly: fields[5]!.split(",").includes("ro"), type: after.split(" ")[0]! };
      });
    const mountAt = (path: string) => mounts.findLast((mount) => mount.path === path);
    expect(mountAt("/")?.readOnly).toBe(true);
    expect(mountAt("/etc/adapter")?.readOnly).toBe(true);
    expect(mountAt(SERVICE_ACCOUNT_DIR)?.readOnly).toBe(true);
    expect(mountAt("/var/run/serving-cert")).toMatchObject({ type: "tmpfs", readOnly: false });
    // The runtime's own /dev, /proc and /sys mounts aside, the emptyDir is the only writable place.
    const writable = mounts.filter((mount) => !mount.readOnly && !/^\/(dev|proc|sys)(\/|$)/.test(mount.path));
    expect(writable.map((mount) => mount.path)).toEqual(["/var/run/serving-cert"]);
    // The binary runs inside the container too, and carries the commit the image was built from.
    const version = await container.exec(["/usr/local/bin/prom-adapter", "--version"]);
    expect(version.exitCode).toBe(0);
    expect(version.stdout).toStartWith("prom-adapter ");
  });

  test("serves /healthz, /livez and /readyz over HTTPS on 127.0.0.1 and on no other address", async () => {
    for (const path of ["/healthz", "/livez", "/readyz"]) {
      const response = await https(path);
      expect({ path, status: response.status, body: await response.text() }).toEqual({ path, status: 200, body: "ok" });
    }
    const other = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && address.family === "IPv4" && !address.internal);
    if (other)
      expect(
        await https("/healthz", other.address).then(
          () => "answered",
          () => "refused",
        ),
      ).toBe("refused");
  });

  test("kubectl get --raw reads the custom metric, resolved with the in-cluster service account", async () => {
    const answer = await raw(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/requests_per_second?labelSelector=app%3Dpodinfo",
    );
    expect(answer.exitCode, answer.stderr).toBe(0);
    const body = JSON.parse(answer.stdout) as { items: { describedObject: { name: string }; value: string }[] };
    expect(body.items.map((item) => [item.describedObject.name, item.value])).toEqual([
      ["podinfo-a", "600m"],
      ["podinfo-b", "1500m"],
    ]);
    const list = cluster
      .requests()
      .filter((request) => request.path === "/api/v1/namespaces/default/pods")
      .at(-1);
    expect(list?.identity?.username).toBe(ADAPTER);
    expect(cluster.reviews().tokenReviews.length).toBeGreaterThan(0);
    // The image carries the commit it was built from (--build-arg PROM_ADAPTER_GIT_COMMIT).
    const version = await raw("/version");
    expect(version.exitCode, version.stderr).toBe(0);
    if (COMMIT !== "") expect((JSON.parse(version.stdout) as { gitCommit: string }).gitCommit).toBe(COMMIT);
  });

  test("a ConfigMap update (rename of ..data) reloads the rules and serves the new metric", async () => {
    const path = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/podinfo-a/jobs_waiting";
    expect((await raw(path)).exitCode).not.toBe(0);
    config.swap({ "config.yaml": rulesFor(["requests_per_second", "jobs_waiting"]) });
    // The file's content is checked every 30 s; the reload starts a relist.
    await container.waitForLog("rules reloaded");
    await container.waitForLog("discovery finished", { after: "rules reloaded" });
    const answer = await raw(path);
    expect(answer.exitCode, answer.stderr).toBe(0);
    const body = JSON.parse(answer.stdout) as { items: { value: string }[] };
    expect(body.items.map((item) => item.value)).toEqual(["2"]);
  });

  test(`docker stop exits 0 within the ${GRACE_SECONDS} s grace period`, async () => {
    const usage = await container.memoryUsage();
    if (usage !== null) console.log(`image test: container memory in use: ${(usage / 1024 / 1024).toFixed(1)} MiB`);
    const started = performance.now();
    await container.stop(GRACE_SECONDS);
    const seconds = (performance.now() - started) / 1000;
    console.log(`image test: docker stop took ${seconds.toFixed(1)} s`);
    const state = (await container.inspect()).State;
    expect({ exitCode: state.ExitCode, oomKilled: state.OOMKilled }).toEqual({ exitCode: 0, oomKilled: false });
    expect(seconds).toBeLessThan(GRACE_SECONDS);
    expect(container.logs()).toContain("shutting down");
  });
});
