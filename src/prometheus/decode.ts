import type { MatrixSeries, QueryResult, SamplePoint, SeriesLabels, VectorSample } from "./types.ts";

/** The `data` of a Prometheus response does not have the expected shape. `path` points at the offending part. */
export class ResponseShapeError extends Error {
  override readonly name = "ResponseShapeError";
}

/** Validates `/api/v1/series` data: a list of label sets. */
export function decodeSeriesList(data: unknown): SeriesLabels[] {
  if (!Array.isArray(data)) throw new ResponseShapeError(`series data: expected a list, got ${typeName(data)}`);
  return data.map((item, index) => decodeLabels(item, `series data[${index}]`));
}

/** Validates `/api/v1/label/<name>/values` data: a list of strings. */
export function decodeStringList(data: unknown): string[] {
  const items = list(data, "label values data");
  items.forEach((item, index) => {
    if (typeof item !== "string")
      throw new ResponseShapeError(`label values data[${index}]: expected a string, got ${typeName(item)}`);
  });
  return items as string[];
}

/** Validates `/api/v1/query` data: `{resultType, result}` for the four result types. */
export function decodeQueryResult(data: unknown): QueryResult {
  if (!isObject(data)) throw new ResponseShapeError(`query data: expected an object, got ${typeName(data)}`);
  const { resultType, result } = data;
  switch (resultType) {
    case "vector":
      return { resultType, result: list(result, "query result").map(decodeVectorSample) };
    case "matrix":
      return { resultType, result: list(result, "query result").map(decodeMatrixSeries) };
    case "scalar":
    case "string":
      return { resultType, result: decodePoint(result, "query result") };
    default:
      throw new ResponseShapeError(`query data: unknown resultType ${JSON.stringify(resultType)}`);
  }
}

function decodeVectorSample(item: unknown, index: number): VectorSample {
  const path = `query result[${index}]`;
  if (!isObject(item)) throw new ResponseShapeError(`${path}: expected an object, got ${typeName(item)}`);
  if (item.value === undefined && item.histogram !== undefined) {
    throw new ResponseShapeError(`${path}: native histogram samples are not supported`);
  }
  return { metric: decodeLabels(item.metric, `${path}.metric`), ...decodePoint(item.value, `${path}.value`) };
}

function decodeMatrixSeries(item: unknown, index: number): MatrixSeries {
  const path = `query result[${index}]`;
  if (!isObject(item)) throw new ResponseShapeError(`${path}: expected an object, got ${typeName(item)}`);
  if (item.values === undefined && item.histograms !== undefined) {
    throw new ResponseShapeError(`${path}: native histogram samples are not supported`);
  }
  const values = list(item.values, `${path}.values`).map((point, at) => decodePoint(point, `${path}.values[${at}]`));
  return { metric: decodeLabels(item.metric, `${path}.metric`), values };
}

/** `[<float seconds>, "<value text>"]` */
function decodePoint(point: unknown, path: string): SamplePoint {
  if (!Array.isArray(point) || point.length !== 2 || typeof point[0] !== "number" || typeof point[1] !== "string") {
    throw new ResponseShapeError(
      `${path}: expected [<seconds>, "<value>"], got ${JSON.stringify(point)?.slice(0, 80) ?? typeName(point)}`,
    );
  }
  return { timestampSeconds: point[0], value: point[1] };
}

function decodeLabels(value: unknown, path: string): SeriesLabels {
  if (!isObject(value)) throw new ResponseShapeError(`${path}: expected a label object, got ${typeName(value)}`);
  for (const [name, labelValue] of Object.entries(value)) {
    if (typeof labelValue !== "string")
      throw new ResponseShapeError(`${path}.${name}: expected a string, got ${typeName(labelValue)}`);
  }
  return value as SeriesLabels;
}

function list(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new ResponseShapeError(`${path}: expected a list, got ${typeName(value)}`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "a list" : typeof value;
}
