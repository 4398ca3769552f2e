/**
 * Label <-> Kubernetes resource association for one rule (rules/README.md, Association): `resources.overrides` in both
 * directions, and `resources.template` executed with regex placeholders (label -> resource, during discovery) or
 * with the group and singular resource (resource -> label, when building queries).
 */
import { goQuote } from "../golang/strconv.ts";
import type { ResourceMapping } from "../config/schema.ts";
import { NamingError } from "./errors.ts";
import { compileTemplate, TemplateCompileError, type CompiledTemplate } from "../golang/template/template.ts";
import { compileRe2 } from "./regex-filter.ts";
import {
  UnknownResourceError,
  type GroupResource,
  type ResourceInfo,
  type RestMapper,
} from "../apimachinery/rest-mapper.ts";
import type { RE2JS } from "re2js";

export interface ResourceConverter {
  /** The resources a series with these label names is about (normalised, de-duplicated, in label order). */
  resourcesForLabels(labelNames: Iterable<string>): ResourceInfo[];
  /** The resource a label stands for, or null when it stands for none. */
  resourceForLabel(label: string): ResourceInfo | null;
  /** The Prometheus label holding names of `resource`. Throws NamingError when the rule cannot name it. */
  labelForResource(resource: GroupResource): string;
}

export interface ResourceConverterOptions {
  /**
   * When set, an override naming a resource the mapper does not know is dropped (its label then maps to nothing)
   * and reported here with the label and a description, instead of failing. Default: unknown overrides throw.
   */
  readonly onUnknownOverride?: (label: string, detail: string) => void;
}

const LABEL_TEMPLATE_FIELDS = { Group: "string", Resource: "string" } as const;

/**
 * Compiles a rule's `resources`. Overrides are normalised now, so an unknown override resource is a startup error
 * (`field` = `resources.overrides.<label>`); a template without `.Resource` is one too (`resources.template`).
 * The mapper may change later (refresh): template lookups are cached per mapper generation.
 */
export function createResourceConverter(
  mapping: ResourceMapping,
  mapper: () => RestMapper,
  { onUnknownOverride }: ResourceConverterOptions = {},
): ResourceConverter {
  const overrideByLabel = new Map<string, GroupResource>();
  const labelByResource = new Map<string, string>();
  for (const [label, reference] of Object.entries(mapping.overrides)) {
    let info: ResourceInfo;
    try {
      info = mapper().resolve(reference);
    } catch (error) {
      if (!(error instanceof UnknownResourceError)) throw error;
      if (onUnknownOverride !== undefined) {
        onUnknownOverride(label, `${formatReference(reference)}: ${error.message}`);
        continue;
      }
      throw new NamingError(
        `unable to normalize group-resource ${formatReference(reference)}: ${error.message}`,
        `resources.overrides.${label}`,
      );
    }
    overrideByLabel.set(label, { group: info.group, resource: info.resource });
    labelByResource.set(key(info), label);
  }

  let template: CompiledTemplate | null = null;
  let labelPattern: RE2JS | null = null;
  if (mapping.template !== "") {
    try {
      template = compileTemplate(mapping.template, LABEL_TEMPLATE_FIELDS);
    } catch (error) {
      if (!(error instanceof TemplateCompileError)) throw error;
      throw new NamingError(
        `unable to generate label format from template ${goQuote(mapping.template)}: ${error.detail}`,
        "resources.template",
      );
    }
    // NB: literal template text is not regex-escaped (upstream behaviour): `a.b_<<.Resource>>` matches `aXb_pod`.
    const regexText = `^${template.execute({ Group: "(?P<group>.+?)", Resource: "(?P<resource>.+?)" })}$`;
    try {
      labelPattern = compileRe2(regexText);
    } catch (error) {
      throw new NamingError(
        `unable to generate label format from template ${goQuote(mapping.template)}: ${(error as Error).message}`,
        "resources.template",
      );
    }
    // Like upstream, the check is on the rendered pattern: it must capture a resource.
    if (!Object.hasOwn(labelPattern.namedGroups(), "resource")) {
      throw new NamingError(
        `unable to generate label format from template ${goQuote(mapping.template)}: must include at least \`{{.Resource}}\` in the label template`,
        "resources.template",
      );
    }
  }

  let cacheGeneration = -1;
  const cache = new Map<string, ResourceInfo | null>();

  function resourceForLabel(label: string): ResourceInfo | null {
    const current = mapper();
    if (current.generation !== cacheGeneration) {
      cache.clear();
      cacheGeneration = current.generation;
    }
    const cached = cache.get(label);
    if (cached !== undefined) return cached;
    const found = lookupLabel(label, current);
    cache.set(label, found);
    return found;
  }

  function lookupLabel(label: string, current: RestMapper): ResourceInfo | null {
    const override = overrideByLabel.get(label);
    if (override) return tryResolve(current, override);
    if (!labelPattern) return null;
    const match = labelPattern.matcher(label);
    if (!match.matches()) return null;
    const groups = labelPattern.namedGroups() as Record<string, number>;
    const groupIndex = groups.group;
    const group = groupIndex === undefined ? "" : (match.group(groupIndex) ?? "");
    const resource = match.group(groups.resource ?? 0) ?? "";
    return tryResolve(current, { group, resource });
  }

  return {
    resourceForLabel,
    resourcesForLabels(labelNames) {
      const found = new Map<string, ResourceInfo>();
      for (const label of labelNames) {
        const info = resourceForLabel(label);
        if (info && !found.has(key(info))) found.set(key(info), info);
      }
      return [...found.values()];
    },
    labelForResource(resource) {
      const override = labelByResource.get(key(resource));
      if (override !== undefined) return override;
      if (!template) {
        throw new NamingError(
          `unable to convert resource ${formatReference(resource)} into label: no generic resource label form specified for this metric`,
        );
      }
      let singular = resource.resource;
      try {
        singular = mapper().resolve(resource).singular;
      } catch {
        // NB: upstream falls back to the written resource when the mapper does not know its singular form.
      }
      const label = template.execute({ Group: resource.group.replace(/[.-]/g, "_"), Resource: singular });
      if (label === "") throw new NamingError("empty label produced by label template");
      return label;
    },
  };
}

function tryResolve(mapper: RestMapper, written: GroupResource): ResourceInfo | null {
  try {
    return mapper.resolve(written);
  } catch (error) {
    if (error instanceof UnknownResourceError) return null;
    throw error;
  }
}

function key({ group, resource }: GroupResource): string {
  return `${group}/${resource}`;
}

function formatReference({ group, resource }: GroupResource): string {
  return group === "" ? resource : `${resource}.${group}`;
}
