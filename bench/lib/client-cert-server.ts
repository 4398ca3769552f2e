/**
 * The server side of the client-certificate benchmark, run as its own process so its CPU time can be read from
 * /proc: prom-adapter's HTTPS listener and authenticator (x509 and front proxy) with no Prometheus behind them.
 * Every request is authenticated and answered 200 with the user name, or with the authentication error's status.
 *
 *   bun run client-cert-server.ts '<json {certPem, keyPem, clientCaPem, frontProxyCaPem}>'
 *
 * Prints `port=<n>` once listening.
 */
import { createAuthenticator } from "../../src/server/authn.ts";
import { startHttpsServer } from "../../src/server/serve.ts";
import { ApiError } from "../../src/apimachinery/status.ts";

const { certPem, keyPem, clientCaPem, frontProxyCaPem } = JSON.parse(process.argv[2] ?? "{}") as Record<string, string>;
const authenticate = createAuthenticator({
  config: () => ({
    clientCaPem,
    requestHeader: {
      caPem: frontProxyCaPem!,
      allowedNames: [],
      usernameHeaders: ["x-remote-user"],
      uidHeaders: [],
      groupHeaders: ["x-remote-group"],
      extraHeaderPrefixes: ["x-remote-extra-"],
    },
  }),
  tokenReviewer: { review: async () => null },
});
const server = await startHttpsServer({
  host: "127.0.0.1",
  port: 0,
  certPem: certPem!,
  keyPem: keyPem!,
  clientCaPems: [clientCaPem!, frontProxyCaPem!],
  handle: async (request) => {
    try {
      const user = await authenticate(request);
      return new Response(user.username);
    } catch (error) {
      return new Response("refused", { status: error instanceof ApiError ? error.code : 500 });
    }
  },
});
process.stdout.write(`port=${server.port}\n`);
