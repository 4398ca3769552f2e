// IMPORTANT: this runs before any test file imports src/. It removes the ambient environment that could make a test
// talk to a real cluster or through a proxy, so every test only reaches the servers it starts itself.
for (const name of [
  "KUBECONFIG",
  "KUBERNETES_SERVICE_HOST",
  "KUBERNETES_SERVICE_PORT",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "http_proxy",
  "https_proxy",
  "ALL_PROXY",
  "all_proxy",
]) {
  delete process.env[name];
}
process.env.NO_PROXY = "127.0.0.1,localhost";
