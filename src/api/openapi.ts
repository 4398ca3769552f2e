/**
 * `/openapi/v2` (Swagger 2.0) and `/openapi/v3` (an index plus one OpenAPI 3.0 document per group-version) of the
 * installed routes (docs/api.md, Operational endpoints). The response schemas are the TypeBox schemas in schemas.ts,
 * the same ones the handlers' output types come from; they are only translated here (nullable unions, `const`,
 * records), never written twice.
 */
import { createHash } from "node:crypto";
import { Elysia } from "elysia";
import type { TSchema } from "elysia";
import { VERSION } from "../util/version.ts";
import { CUSTOM_METRICS_GROUP, EXTERNAL_METRICS_GROUP, RESOURCE_METRICS_GROUP, type ServedGroup } from "./discovery.ts";
import { jsonResponse } from "./json.ts";
import * as schemas from "./schemas.ts";
import { pathNotFound } from "./status.ts";

type SchemaName = keyof typeof DEFINITIONS;

/** Every schema a route answers with, by definition name. */
const DEFINITIONS = {
  APIGroupList: schemas.ApiGroupList,
  APIGroup: schemas.ApiGroup,
  APIResourceList: schemas.ApiResourceList,
  MetricValueListV1beta1: schemas.MetricValueListV1beta1,
  MetricValueListV1beta2: schemas.MetricValueListV1beta2,
  ExternalMetricValueList: schemas.ExternalMetricValueList,
  PodMetrics: schemas.PodMetrics,
  PodMetricsList: schemas.PodMetricsList,
  NodeMetrics: schemas.NodeMetrics,
  NodeMetricsList: schemas.NodeMetricsList,
  Status: schemas.Status,
  VersionInfo: schemas.VersionInfo,
} satisfies Record<string, TSchema>;

interface Route {
  readonly path: string;
  readonly summary: string;
  readonly schema: SchemaName;
  readonly query?: readonly { readonly name: string; readonly description: string }[];
}

const SELECTOR = { name: "labelSelector", description: "Kubernetes label selector" } as const;
const METRIC_SELECTOR = {
  name: "metricLabelSelector",
  description: "selector on the metric's series, as PromQL matchers",
} as const;
const FIELD_SELECTOR = { name: "fieldSelector", description: "metadata.name or metadata.namespace" } as const;

/** The routes of one group-version, paths with `{parameters}`. */
export function routesOf(group: string, version: string): Route[] {
  const root = `/apis/${group}/${version}`;
  const resources: Route = { path: root, summary: `resources of ${group}/${version}`, schema: "APIResourceList" };
  if (group === CUSTOM_METRICS_GROUP.name) {
    const list: SchemaName = version === "v1beta1" ? "MetricValueListV1beta1" : "MetricValueListV1beta2";
    const query = [SELECTOR, METRIC_SELECTOR];
    return [
      resources,
      {
        path: `${root}/namespaces/{namespace}/{resource}/{name}/{metric}`,
        summary: "a metric of namespaced objects (name `*` for all)",
        schema: list,
        query,
      },
      {
        path: `${root}/namespaces/{namespace}/metrics/{metric}`,
        summary: "a metric of the namespace itself",
        schema: list,
        query: [METRIC_SELECTOR],
      },
      {
        path: `${root}/{resource}/{name}/{metric}`,
        summary: "a metric of cluster-scoped objects (name `*` for all)",
        schema: list,
        query,
      },
    ];
  }
  if (group === EXTERNAL_METRICS_GROUP.name) {
    return [
      resources,
      {
        path: `${root}/namespaces/{namespace}/{metric}`,
        summary: "an external metric",
        schema: "ExternalMetricValueList",
        query: [SELECTOR],
      },
    ];
  }
  if (group === RESOURCE_METRICS_GROUP.name) {
    const query = [SELECTOR, FIELD_SELECTOR];
    return [
      resources,
      { path: `${root}/nodes`, summary: "usage of all nodes", schema: "NodeMetricsList", query },
      { path: `${root}/nodes/{name}`, summary: "usage of one node", schema: "NodeMetrics" },
      { path: `${root}/pods`, summary: "usage of pods in all namespaces", schema: "PodMetricsList", query },
      {
        path: `${root}/namespaces/{namespace}/pods`,
        summary: "usage of pods in a namespace",
        schema: "PodMetricsList",
        query,
      },
      { path: `${root}/namespaces/{namespace}/pods/{name}`, summary: "usage of one pod", schema: "PodMetrics" },
    ];
  }
  return [];
}

type Dialect = "swagger2" | "openapi3";

/** A TypeBox schema as plain JSON Schema in the dialect's spelling. */
export function translateSchema(schema: unknown, dialect: Dialect): unknown {
  if (Array.isArray(schema)) return schema.map((item) => translateSchema(item, dialect));
  if (typeof schema !== "object" || schema === null) return schema;
  const source = schema as Record<string, unknown>;
  const variants = source.anyOf as Record<string, unknown>[] | undefined;
  if (variants) {
    const nonNull = variants.filter((variant) => variant.type !== "null");
    const nullable = nonNull.length < variants.length;
    if (nonNull.every((variant) => "const" in variant)) {
      return { type: "string", enum: nonNull.map((variant) => variant.const), ...nullFlag(nullable, dialect) };
    }
    if (nonNull.length === 1)
      return { ...(translateSchema(nonNull[0], dialect) as object), ...nullFlag(nullable, dialect) };
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (key === "$id" || key === "$schema" || key === "anyOf") continue;
    if (key === "const") {
      out.enum = [value];
      continue;
    }
    if (key === "examples") {
      if (Array.isArray(value) && value.length > 0) out.example = value[0];
      continue;
    }
    if (key === "patternProperties") {
      const [only] = Object.values(value as Record<string, unknown>);
      out.additionalProperties = translateSchema(only, dialect);
      continue;
    }
    out[key] = typeof value === "object" ? translateSchema(value, dialect) : value;
  }
  return out;
}

function nullFlag(nullable: boolean, dialect: Dialect): Record<string, boolean> {
  if (!nullable) return {};
  return dialect === "swagger2" ? { "x-nullable": true } : { nullable: true };
}

const pathParameters = (path: string) => [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string);

function operation(route: Route, dialect: Dialect) {
  const ref = (name: SchemaName) =>
    dialect === "swagger2" ? { $ref: `#/definitions/${name}` } : { $ref: `#/components/schemas/${name}` };
  const parameters = [
    ...pathParameters(route.path).map((name) =>
      dialect === "swagger2"
        ? { name, in: "path", required: true, type: "string" }
        : { name, in: "path", required: true, schema: { type: "string" } },
    ),
    ...[...(route.query ?? []), { name: "pretty", description: "indent the output" }].map(({ name, description }) =>
      dialect === "swagger2"
        ? { name, in: "query", description, type: "string" }
        : { name, in: "query", description, schema: { type: "string" } },
    ),
  ];
  const body = (name: SchemaName, description: string) =>
    dialect === "swagger2"
      ? { description, schema: ref(name) }
      : { description, content: { "application/json": { schema: ref(name) } } };
  return {
    get: {
      summary: route.summary,
      operationId: `get${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
      ...(dialect === "swagger2" ? { produces: ["application/json"] } : {}),
      parameters,
      responses: { "200": body(route.schema, "OK"), default: body("Status", "a Kubernetes Status") },
    },
  };
}

function schemasFor(routes: readonly Route[], dialect: Dialect): Record<string, unknown> {
  const names = new Set<SchemaName>(["Status", ...routes.map((route) => route.schema)]);
  return Object.fromEntries([...names].sort().map((name) => [name, translateSchema(DEFINITIONS[name], dialect)]));
}

/** The installed routes outside any group-version: `/apis`, `/apis/<group>`, `/version`. */
function commonRoutes(groups: readonly ServedGroup[]): Route[] {
  return [
    { path: "/apis", summary: "API groups served", schema: "APIGroupList" },
    ...groups.map(
      (group): Route => ({ path: `/apis/${group.name}`, summary: `the ${group.name} group`, schema: "APIGroup" }),
    ),
    { path: "/version", summary: "version of prom-adapter", schema: "VersionInfo" },
  ];
}

/** `/openapi/v2`: every installed route. */
export function swaggerDocument(groups: readonly ServedGroup[]) {
  const routes = [
    ...commonRoutes(groups),
    ...groups.flatMap((group) => group.versions.flatMap((version) => routesOf(group.name, version))),
  ];
  return {
    swagger: "2.0",
    info: { title: "prom-adapter", version: VERSION },
    paths: Object.fromEntries(routes.map((route) => [route.path, operation(route, "swagger2")])),
    definitions: schemasFor(routes, "swagger2"),
  };
}

/** The OpenAPI 3.0 document of one group-version. */
export function openApiV3Document(group: string, version: string) {
  const routes = routesOf(group, version);
  return {
    openapi: "3.0.0",
    info: { title: "prom-adapter", version: VERSION },
    paths: Object.fromEntries(routes.map((route) => [route.path, operation(route, "openapi3")])),
    components: { schemas: schemasFor(routes, "openapi3") },
  };
}

/** `/openapi/v3`: where each group-version's document is, with a content hash as Kubernetes publishes it. */
export function openApiV3Index(groups: readonly ServedGroup[]) {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const group of groups) {
    for (const version of group.versions) {
      const hash = createHash("sha512")
        .update(JSON.stringify(openApiV3Document(group.name, version)))
        .digest("hex")
        .slice(0, 128)
        .toUpperCase();
      paths[`apis/${group.name}/${version}`] = {
        serverRelativeURL: `/openapi/v3/apis/${group.name}/${version}?hash=${hash}`,
      };
    }
  }
  return { paths };
}

export function openApiApi(servedGroups: () => ServedGroup[]) {
  return new Elysia({ name: "openapi" })
    .get("/openapi/v2", () => jsonResponse(swaggerDocument(servedGroups())))
    .get("/openapi/v3", () => jsonResponse(openApiV3Index(servedGroups())))
    .get("/openapi/v3/apis/:group/:version", ({ params }) => {
      const group = servedGroups().find((candidate) => candidate.name === params.group);
      if (!group?.versions.includes(params.version)) throw pathNotFound();
      return jsonResponse(openApiV3Document(params.group, params.version));
    });
}
