/** A reason the adapter cannot start (bad kubeconfig, unreachable API server, port in use); main.ts prints it and exits 1. */
export class StartupError extends Error {
  override readonly name = "StartupError";
}
