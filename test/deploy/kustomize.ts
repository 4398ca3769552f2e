/**
 * Renders kustomizations with the real `kubectl kustomize` (local only: no cluster, no credentials) and parses the
 * result with the `yaml` package.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import { KUBECTL, kubectlSkipReason } from "../support/skip.ts";

/** A rendered Kubernetes object; only the envelope is typed, the rest is read as plain JSON. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
  // NB: the bodies differ per kind; tests read them as JSON and assert their shape.
  readonly [field: string]: any;
}

/** Why `kubectl kustomize` cannot run here, or null. */
export function kustomizeSkipReason(): string | null {
  return kubectlSkipReason();
}

/**
 * Why kustomize Components cannot be rendered here, or null. Components need kustomize v3.7+, bundled with kubectl
 * 1.21 and later (Debian 12's kubernetes-client is 1.20, with kustomize v2.0.3).
 */
export function componentsSkipReason(): string | null {
  const missing = kustomizeSkipReason();
  if (missing !== null) return missing;
  const result = Bun.spawnSync([KUBECTL!, "version", "--client", "-o", "json"], {
    stdout: "pipe",
    stderr: "pipe",
    env: isolatedEnv(),
  });
  let info: { clientVersion?: { major?: string; minor?: string }; kustomizeVersion?: string };
  try {
    info = JSON.parse(result.stdout.toString());
  } catch {
    return `cannot read the kustomize version from \`kubectl version --client -o json\`: ${result.stderr.toString().trim()}`;
  }
  const kustomize = /^v?(\d+)\.(\d+)/.exec(info.kustomizeVersion ?? "");
  if (kustomize) {
    const [major, minor] = [Number(kustomize[1]), Number(kustomize[2])];
    return major > 3 || (major === 3 && minor >= 7)
      ? null
      : `kubectl bundles kustomize ${info.kustomizeVersion}, which has no Components (needs v3.7+)`;
  }
  const minor = Number.parseInt(info.clientVersion?.minor ?? "0", 10);
  return info.clientVersion?.major === "1" && minor >= 21
    ? null
    : `kubectl 1.${minor} bundles a kustomize without Components (needs kubectl 1.21+)`;
}

/** `kubectl kustomize <dir>`, parsed. Throws with kubectl's message when it fails. */
export function kustomize(dir: string): KubeObject[] {
  const result = Bun.spawnSync([KUBECTL!, "kustomize", dir], { stdout: "pipe", stderr: "pipe", env: isolatedEnv() });
  if (result.exitCode !== 0)
    throw new Error(`kubectl kustomize ${dir} failed (exit ${result.exitCode}): ${result.stderr.toString()}`);
  return parseAllDocuments(result.stdout.toString()).flatMap((doc) => {
    if (doc.errors.length > 0)
      throw new Error(`kubectl kustomize ${dir} printed invalid YAML: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as KubeObject | null;
    return value === null ? [] : [value];
  });
}

/**
 * Renders `base` with `components` added, as a user's own overlay would. NB: the overlay is written to a temporary
 * directory outside the repository, because kustomize refuses an overlay inside the base directory it builds on
 * ("cycle detected"), and it must use relative paths (absolute roots are refused too).
 */
export function kustomizeWithComponents(base: string, components: readonly string[]): KubeObject[] {
  const overlay = mkdtempSync(join(tmpdir(), "prom-adapter-overlay-"));
  try {
    const lines = [
      "apiVersion: kustomize.config.k8s.io/v1beta1",
      "kind: Kustomization",
      "resources:",
      `- ${relative(overlay, base)}`,
      "components:",
    ];
    for (const component of components) lines.push(`- ${relative(overlay, component)}`);
    writeFileSync(join(overlay, "kustomization.yaml"), `${lines.join("\n")}\n`);
    return kustomize(overlay);
  } finally {
    rmSync(overlay, { recursive: true, force: true });
  }
}

/** The environment without a kubeconfig, so kubectl never reads the user's clusters or credentials. */
function isolatedEnv(): Record<string, string | undefined> {
  return { ...process.env, KUBECONFIG: join(tmpdir(), "prom-adapter-no-kubeconfig") };
}
