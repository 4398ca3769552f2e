/**
 * Accept-header negotiation for resource endpoints, after apiserver's `negotiation.NegotiateOutputMediaType`: the
 * alternatives are tried by quality then specificity, and the first one served wins. Served: JSON, and the
 * meta.k8s.io conversions `as=Table`, `as=PartialObjectMetadata`, `as=PartialObjectMetadataList` (v1 and v1beta1).
 * NB: YAML and protobuf are not served, so a client that accepts only those gets 406.
 */

/** What to send: the object(s) as stored, or a meta.k8s.io conversion of them. */
export type OutputTarget =
  | { kind: "object" }
  | { kind: "Table" | "PartialObjectMetadata" | "PartialObjectMetadataList"; version: "v1" | "v1beta1" };

/** No alternative of the Accept header can be served; `message` is Kubernetes' 406 text. */
export class NotAcceptableError extends Error {
  override name = "NotAcceptableError";
}

const CONVERSIONS = new Set(["Table", "PartialObjectMetadata", "PartialObjectMetadataList"]);
const ACCEPTED_MESSAGE =
  "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf";

interface Alternative {
  type: string;
  subtype: string;
  params: Record<string, string>;
  quality: number;
  index: number;
}

/** Picks the output for `accept` (a missing or empty header means plain JSON). */
export function negotiateOutput(accept: string | null): OutputTarget {
  if (accept === null || accept.trim() === "") return { kind: "object" };
  for (const alternative of parseAccept(accept)) {
    const target = servedTarget(alternative);
    if (target) return target;
  }
  throw new NotAcceptableError(ACCEPTED_MESSAGE);
}

function servedTarget({ type, subtype, params }: Alternative): OutputTarget | undefined {
  const jsonLike =
    (type === "application" && (subtype === "json" || subtype === "*")) || (type === "*" && subtype === "*");
  if (!jsonLike) return undefined;
  const as = params.as;
  if (as === undefined || as === "") return { kind: "object" };
  if (!CONVERSIONS.has(as) || params.g !== "meta.k8s.io") return undefined;
  if (params.v !== "v1" && params.v !== "v1beta1") return undefined;
  return { kind: as as "Table" | "PartialObjectMetadata" | "PartialObjectMetadataList", version: params.v };
}

function parseAccept(header: string): Alternative[] {
  const alternatives: Alternative[] = [];
  header.split(",").forEach((entry, index) => {
    const [mediaRange = "", ...paramTexts] = entry.split(";").map((part) => part.trim());
    const [type = "", subtype = ""] = mediaRange.toLowerCase().split("/");
    if (type === "" || subtype === "") return;
    const params: Record<string, string> = {};
    let quality = 1;
    for (const text of paramTexts) {
      const equals = text.indexOf("=");
      if (equals < 0) continue;
      const key = text.slice(0, equals).trim();
      const value = text.slice(equals + 1).trim();
      if (key === "q") quality = Number.parseFloat(value) || 0;
      else params[key] = value;
    }
    alternatives.push({ type, subtype, params, quality, index });
  });
  const specificity = (alternative: Alternative) =>
    alternative.type === "*" ? 0 : alternative.subtype === "*" ? 1 : 2;
  return alternatives
    .filter((alternative) => alternative.quality > 0)
    .sort((a, b) => b.quality - a.quality || specificity(b) - specificity(a) || a.index - b.index);
}
