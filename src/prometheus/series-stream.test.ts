import { describe, expect, test } from "bun:test";
import { decodeSeriesList, ResponseShapeError } from "./decode.ts";
import { createEnvelopeReader } from "./envelope-stream.ts";
import { createJsonTokenizer } from "./json-tokenizer.ts";
import { createSeriesListHandler } from "./series-stream.ts";

const encoder = new TextEncoder();

/** Streams `body` (split at `splits`) through envelope reader + series handler; returns what was seen. */
function streamBody(body: string, splits: readonly number[] = []) {
  const seen: { name: string | undefined; labelNames: string[] }[] = [];
  const list = createSeriesListHandler((name, labelNames) => seen.push({ name, labelNames: [...labelNames] }));
  const envelope = createEnvelopeReader(list);
  const tokenizer = createJsonTokenizer(envelope.handler);
  const bytes = encoder.encode(body);
  let from = 0;
  for (const split of [...splits, bytes.length]) {
    tokenizer.write(bytes.subarray(from, split));
    from = split;
  }
  tokenizer.end();
  return { seen, count: list.seriesCount, fields: envelope.fields() };
}

/** What the buffered decoder makes of the same body, in the streamed form. */
function buffered(body: string) {
  return decodeSeriesList((JSON.parse(body) as { data: unknown }).data).map(({ __name__, ...labels }) => ({
    name: __name__,
    labelNames: Object.keys(labels),
  }));
}

const SERIES_BODY = JSON.stringify({
  status: "success",
  data: [
    { __name__: "http_requests_total", namespace: "a", pod: "p-1" },
    { job: "no-name" },
    { __name__: "mémoire_😀", namespace: 'b"q\\', pod: "\u2028" },
    { __name__: "up", instance: "localhost:9090", job: "prometheus" },
  ],
});

describe("streamed series answers", () => {
  test("each series arrives with its name and label names, as the buffered decoder reads them", () => {
    const { seen, count, fields } = streamBody(SERIES_BODY);
    expect(seen).toEqual(buffered(SERIES_BODY));
    expect({ count, status: fields.status, hasData: fields.hasData }).toEqual({
      count: 4,
      status: "success",
      hasData: true,
    });
  });

  test("the result is the same split at every byte position", () => {
    const expected = buffered(SERIES_BODY);
    const length = encoder.encode(SERIES_BODY).length;
    for (let split = 0; split <= length; split++)
      expect({ split, seen: streamBody(SERIES_BODY, [split]).seen }).toEqual({ split, seen: expected });
  });

  test("data before status and extra keys (warnings) are handled", () => {
    const body = '{"data":[{"__name__":"x","a":"1"}],"warnings":["partial",{"deep":["x"]}],"status":"success"}';
    const { seen, fields } = streamBody(body);
    expect(seen).toEqual([{ name: "x", labelNames: ["a"] }]);
    expect(fields.status).toBe("success");
  });

  test("an error envelope reports its fields and nothing reaches the series handler", () => {
    const { seen, fields } = streamBody(
      '{"status":"error","errorType":"bad_data","error":"invalid parameter","data":{"ignored":true}}',
    );
    expect(seen).toEqual([]);
    expect(fields).toEqual({
      status: "error",
      errorType: "bad_data",
      error: "invalid parameter",
      hasData: true,
      isObject: true,
    });
  });

  test("a body that is not an object is reported as such", () => {
    expect(streamBody('[{"status":"success","data":[]}]').fields.isObject).toBe(false);
  });

  test.each([
    { name: "data that is an object", data: "{}", message: "series data: expected a list, got object" },
    { name: "data that is null", data: "null", message: "series data: expected a list, got null" },
    {
      name: "a series that is a string",
      data: '["x"]',
      message: "series data[0]: expected a label object, got string",
    },
    {
      name: "a series that is a list",
      data: '[{"__name__":"a"},[]]',
      message: "series data[1]: expected a label object, got a list",
    },
    {
      name: "a label value that is a number",
      data: '[{"pod":1}]',
      message: "series data[0].pod: expected a string, got number",
    },
    {
      name: "a label value that is an object",
      data: '[{"pod":{}}]',
      message: "series data[0].pod: expected a string, got object",
    },
    {
      name: "a label value that is null",
      data: '[{"pod":null}]',
      message: "series data[0].pod: expected a string, got null",
    },
  ])("$name is a ResponseShapeError worded like the buffered decoder's", ({ data, message }) => {
    expect(() => streamBody(`{"status":"success","data":${data}}`)).toThrow(new ResponseShapeError(message));
    expect(() => decodeSeriesList(JSON.parse(data))).toThrow(message);
  });
});
