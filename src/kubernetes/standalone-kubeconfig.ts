/**
 * Which kubeconfig a `--standalone` run (and `check`) reads API discovery through. Kept apart from the Kubernetes
 * client so that deciding there is none does not load it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";

/** The kubeconfig a standalone run uses: the flag, else $KUBECONFIG's first existing file, else ~/.kube/config. */
export function standaloneKubeconfigPath(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (flag !== undefined) return flag;
  const fromEnv = (env.KUBECONFIG ?? "").split(":").find((path) => path !== "" && existsSync(path));
  if (fromEnv !== undefined) return fromEnv;
  const home = env.HOME;
  const defaultPath = home === undefined || home === "" ? undefined : join(home, ".kube", "config");
  return defaultPath !== undefined && existsSync(defaultPath) ? defaultPath : undefined;
}
