/**
 * Cluster mode's share of the composition: kubeconfigs, the discovery REST mapper, object lookup, and request
 * authentication/authorization. Loaded by start.ts only without --standalone, so standalone runs never load
 * @kubernetes/client-node.
 */
import { AuthenticationV1Api, AuthorizationV1Api, CoreV1Api } from "@kubernetes/client-node";
import { StartupError } from "./startup-error.ts";
import {
  AuthenticationConfigError,
  clientCaPemsOf,
  createAuthenticationConfigSource,
  createConfigMapReader,
  type AuthenticationConfigSource,
} from "../kubernetes/authentication-config.ts";
import { connectLookups, DiscoveryUnreachableError } from "../kubernetes/cluster-lookups.ts";
import type { DiscoveryRestMapper } from "../kubernetes/discovery-rest-mapper.ts";
import { createApiConfiguration } from "../kubernetes/kube-http.ts";
import { KubeConfigError, loadKubeConfig } from "../kubernetes/kube-config.ts";
import { createSubjectAccessReviewer } from "../kubernetes/subject-access-review.ts";
import { createTokenReviewer } from "../kubernetes/token-review.ts";
import type { Logger } from "../observability/logger.ts";
import type { SelfMetrics } from "../observability/self-metrics.ts";
import type { Options } from "../options.ts";
import type { ObjectLister } from "../providers/custom-metrics-provider.ts";
import type { ResourceObjectSource } from "../providers/resource-object-source.ts";
import { createAuthenticator } from "../server/authn.ts";
import { AlwaysAllowPathError, createAuthorization } from "../server/authz.ts";
import { createSecurityCheck, type SecurityCheck } from "../server/security.ts";
/** What cluster mode adds: the discovery REST mapper, object lookup, and request authentication/authorization. */
export interface ClusterConnection {
  readonly restMapper: DiscoveryRestMapper;
  readonly objects: ObjectLister;
  readonly resourceObjects: ResourceObjectSource;
  readonly authentication: AuthenticationConfigSource;
  readonly security: SecurityCheck;
  /** The CA bundles the listener names when it requests client certificates (client CA and front-proxy CA). */
  clientCaPems(): string[];
  /** Calls `listener` with the new bundles whenever the authentication configuration changes. */
  onClientCaChange(listener: (clientCaPems: string[]) => void): void;
}

/**
 * Loads the kubeconfigs (`--kubeconfig`, else in-cluster, else ~/.kube/config; the authentication and authorization
 * ones default to it), reads discovery and the authentication configuration. Throws StartupError with the cause.
 */
export async function connectToCluster(
  options: Options,
  logger: Logger,
  metrics: SelfMetrics,
): Promise<ClusterConnection> {
  const k = options.kubernetes;
  try {
    const lister = loadKubeConfig({ file: k.kubeconfig });
    const authenticationConfig =
      k.authenticationKubeconfig === undefined ? lister : loadKubeConfig({ file: k.authenticationKubeconfig });
    const authorizationConfig =
      k.authorizationKubeconfig === undefined ? lister : loadKubeConfig({ file: k.authorizationKubeconfig });
    const authenticationApi = createApiConfiguration(authenticationConfig);

    const { restMapper, objects, resourceObjects } = await connectLookups(lister, logger);
    const authentication = createAuthenticationConfigSource({
      flags: k,
      reader: createConfigMapReader(new CoreV1Api(authenticationApi)),
      logger,
    });
    await authentication.start();
    const security = createSecurityCheck({
      logger,
      authenticate: createAuthenticator({
        config: () => authentication.current(),
        tokenReviewer: createTokenReviewer({
          api: new AuthenticationV1Api(authenticationApi),
          onReview: (result) => metrics.reviews.inc({ kind: "tokenreview", result }),
        }),
      }),
      authorize: createAuthorization({
        authorizer: createSubjectAccessReviewer({
          api: new AuthorizationV1Api(createApiConfiguration(authorizationConfig)),
          onReview: (result) => metrics.reviews.inc({ kind: "subjectaccessreview", result }),
        }),
        alwaysAllowPaths: k.authorizationAlwaysAllowPaths,
        logger,
      }),
    });
    const loaded = authentication.current();
    logger.info(0, "authentication configuration loaded", {
      clientCA: loaded.clientCaPem !== undefined,
      frontProxyCA: loaded.requestHeader !== undefined,
      allowedNames: loaded.requestHeader?.allowedNames.join(",") || "any",
    });
    return {
      restMapper,
      objects,
      resourceObjects,
      authentication,
      security,
      clientCaPems: () => clientCaPemsOf(authentication.current()),
      onClientCaChange: (listener) => {
        authentication.onChange((config) => listener(clientCaPemsOf(config)));
      },
    };
  } catch (error) {
    if (
      error instanceof DiscoveryUnreachableError ||
      error instanceof KubeConfigError ||
      error instanceof AuthenticationConfigError ||
      error instanceof AlwaysAllowPathError
    ) {
      throw new StartupError(error.message);
    }
    throw error;
  }
}
