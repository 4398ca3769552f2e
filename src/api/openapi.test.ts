import { describe, expect, test } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { CUSTOM_METRICS_GROUP, EXTERNAL_METRICS_GROUP, RESOURCE_METRICS_GROUP } from "./discovery.ts";
import {
  openApiApi,
  openApiV3Document,
  openApiV3Index,
  routesOf,
  swaggerDocument,
  translateSchema,
} from "./openapi.ts";
import * as schemas from "./schemas.ts";

const ALL = [CUSTOM_METRICS_GROUP, EXTERNAL_METRICS_GROUP, RESOURCE_METRICS_GROUP];

async function validate(document: unknown): Promise<unknown> {
  const result = await new Validator().validate(document as Parameters<Validator["validate"]>[0]);
  return result.valid ? true : result.errors;
}

describe("OpenAPI documents", () => {
  test("the Swagger 2.0 document of every group validates", async () => {
    const document = swaggerDocument(ALL);
    expect(await validate(document)).toBe(true);
    expect(document.info.title).toBe("prom-adapter");
    expect(Object.keys(document.paths)).toContain(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/{resource}/{name}/{metric}",
    );
    expect(Object.keys(document.paths)).toContain(
      "/apis/external.metrics.k8s.io/v1beta1/namespaces/{namespace}/{metric}",
    );
    expect(Object.keys(document.paths)).toContain("/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods/{name}");
  });

  test.each(
    ALL.flatMap((group) => group.versions.map((version) => [`${group.name}/${version}`, group.name, version] as const)),
  )("the OpenAPI 3 document of %s validates", async (_, group, version) => {
    expect(await validate(openApiV3Document(group, version))).toBe(true);
  });

  test("only installed groups are described", () => {
    const document = swaggerDocument([CUSTOM_METRICS_GROUP]);
    expect(Object.keys(document.paths).some((path) => path.includes("external.metrics"))).toBe(false);
    expect(Object.keys(openApiV3Index([EXTERNAL_METRICS_GROUP]).paths)).toEqual([
      "apis/external.metrics.k8s.io/v1beta1",
    ]);
  });

  test("the v3 index points at each document with a hash that changes with its content", () => {
    const index = openApiV3Index(ALL);
    expect(Object.keys(index.paths)).toEqual([
      "apis/custom.metrics.k8s.io/v1beta2",
      "apis/custom.metrics.k8s.io/v1beta1",
      "apis/external.metrics.k8s.io/v1beta1",
      "apis/metrics.k8s.io/v1beta1",
    ]);
    const url = index.paths["apis/custom.metrics.k8s.io/v1beta2"]!.serverRelativeURL;
    expect(url).toMatch(/^\/openapi\/v3\/apis\/custom\.metrics\.k8s\.io\/v1beta2\?hash=[0-9A-F]{128}$/);
    expect(url).not.toBe(index.paths["apis/custom.metrics.k8s.io/v1beta1"]!.serverRelativeURL);
  });

  test("nullable unions and literals are translated per dialect, keeping required fields", () => {
    const v2 = translateSchema(schemas.MetricValueV1beta1, "swagger2") as {
      required: string[];
      properties: Record<string, Record<string, unknown>>;
    };
    expect(v2.required).toEqual(["describedObject", "metricName", "timestamp", "value", "selector"]);
    expect(v2.properties.selector?.["x-nullable"]).toBe(true);
    const v3 = translateSchema(schemas.MetricValueListV1beta2, "openapi3") as {
      properties: Record<string, Record<string, unknown>>;
    };
    expect(v3.properties.kind).toMatchObject({ type: "string", enum: ["MetricValueList"] });
    expect(JSON.stringify(v3)).not.toContain('"const"');
    expect(JSON.stringify(v3)).not.toContain("anyOf");
  });

  test("the plugin serves the documents and 404s an unknown group-version", async () => {
    const app = openApiApi(() => [CUSTOM_METRICS_GROUP]);
    const v2 = await app.handle(new Request("http://localhost/openapi/v2"));
    expect(v2.status).toBe(200);
    expect(((await v2.json()) as { swagger: string }).swagger).toBe("2.0");
    const v3 = await app.handle(new Request("http://localhost/openapi/v3/apis/custom.metrics.k8s.io/v1beta1?hash=x"));
    expect(((await v3.json()) as { openapi: string }).openapi).toBe("3.0.0");
    const missing = await app.handle(new Request("http://localhost/openapi/v3/apis/metrics.k8s.io/v1beta1"));
    expect(missing.status).not.toBe(200);
  });

  test("every group-version has routes", () => {
    for (const group of ALL)
      for (const version of group.versions) expect(routesOf(group.name, version).length).toBeGreaterThan(1);
  });
});
