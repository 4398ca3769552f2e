import { describe, expect, test } from "bun:test";
import { createResourceConverter } from "./resource-converter.ts";
import { createTableRestMapper } from "../apimachinery/rest-mapper.ts";

describe("labelForResource with a template", () => {
  test("the group's '.' and '-' become '_' at every occurrence, not only the first", () => {
    const mapper = createTableRestMapper([
      {
        group: "a.b-c.example.com",
        version: "v1",
        resource: "widgets",
        singular: "widget",
        kind: "Widget",
        namespaced: true,
      },
    ]);
    const mapping = { template: "kube_<<.Group>>_<<.Resource>>", overrides: {}, namespaced: undefined };
    const converter = createResourceConverter(mapping, () => mapper);
    const label = converter.labelForResource({ group: "a.b-c.example.com", resource: "widgets" });
    expect(label).toBe("kube_a_b_c_example_com_widget");
  });
});
