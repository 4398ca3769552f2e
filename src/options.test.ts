import { describe, expect, test } from "bun:test";
import { OptionsError, parseOptions } from "./options.ts";

describe("flags", () => {
  test("defaults follow the CLI contract", () => {
    const options = parseOptions([]);
    expect(options).toMatchObject({
      prometheusUrl: "http://localhost:9090",
      configFile: undefined,
      relistInterval: 60_000,
      maxAge: 60_000,
      queryCacheTtl: 5000,
      securePort: 6443,
      bindAddress: "0.0.0.0",
      certDir: "apiserver.local.config/certificates",
      standalone: false,
      discoveryMode: "auto",
      verbosity: 0,
      logFormat: "text",
    });
    expect(options.prometheus.verb).toBe("GET");
    expect(options.kubernetes.authorizationAlwaysAllowPaths).toEqual(["/healthz", "/readyz", "/livez"]);
  });

  test("--discovery-mode takes series, labels or auto and nothing else", () => {
    expect(parseOptions(["--discovery-mode=series"]).discoveryMode).toBe("series");
    expect(parseOptions(["--discovery-mode", "labels"]).discoveryMode).toBe("labels");
    expect(() => parseOptions(["--discovery-mode=index"])).toThrow(
      new OptionsError('--discovery-mode must be one of series, labels, auto, got "index"'),
    );
  });

  test("standalone binds loopback by default", () => {
    expect(parseOptions(["--standalone"]).bindAddress).toBe("127.0.0.1");
    expect(parseOptions(["--standalone", "--bind-address=0.0.0.0"]).bindAddress).toBe("0.0.0.0");
  });

  test("the walkthrough's upstream arguments are accepted unchanged", () => {
    const options = parseOptions([
      "--cert-dir=/var/run/serving-cert",
      "--secure-port=6443",
      "--logtostderr=true",
      "--prometheus-url=http://thanos-query.monitoring.svc.cluster.local:9090/",
      "--metrics-relist-interval=1m",
      "--v=10",
      "--config=/etc/adapter/config.yaml",
    ]);
    expect(options.verbosity).toBe(10);
    expect(options.configFile).toBe("/etc/adapter/config.yaml");
    expect(options.certDir).toBe("/var/run/serving-cert");
  });

  test("--flag value and --flag=value are the same", () => {
    expect(parseOptions(["--prometheus-url", "http://a:1"]).prometheusUrl).toBe("http://a:1");
    expect(parseOptions(["--prometheus-url=http://a:1"]).prometheusUrl).toBe("http://a:1");
  });

  test("--prometheus-header repeats and keeps everything after the first =", () => {
    expect(
      parseOptions(["--prometheus-header=X-Scope-OrgID=team-a", "--prometheus-header", "X-Extra=a=b"]).prometheus
        .headers,
    ).toEqual({
      "X-Scope-OrgID": "team-a",
      "X-Extra": "a=b",
    });
  });

  test("max age defaults to the relist interval", () => {
    expect(parseOptions(["--metrics-relist-interval=30s"]).maxAge).toBe(30_000);
    expect(parseOptions(["--metrics-relist-interval=30s", "--metrics-max-age=2m"]).maxAge).toBe(120_000);
  });

  test.each([
    [["--nope"], "unknown flag: --nope"],
    [["--secure-port=x"], "--secure-port must be an integer from 0 to 65535"],
    [["--metrics-relist-interval=1x"], "--metrics-relist-interval: not a valid duration string"],
    [["--metrics-relist-interval=1m", "--metrics-max-age=30s"], "max age must not be less than relist interval"],
    [["--prometheus-verb=PUT"], "--prometheus-verb must be GET or POST"],
    [["--prometheus-header=novalue"], "--prometheus-header must be K=V"],
    [["--tls-cert-file=a"], "--tls-cert-file and --tls-private-key-file must be given together"],
    [["--standalone=maybe"], "--standalone takes true or false"],
    [["--config"], "--config needs a value"],
    [["stray"], 'unexpected argument "stray"'],
    [["--prometheus-url=ftp://x"], "--prometheus-url must be an http or https URL"],
  ])("%p is refused with a message naming the flag", (args, message) => {
    expect(() => parseOptions(args)).toThrow(OptionsError);
    expect(() => parseOptions(args)).toThrow(message);
  });
});
