/**
 * HTTP/1.1 keep-alive load generator, run as its own process (so it does not share a CPU with the server under
 * test): `bun run load-worker.ts '<json LoadSpec>'` prints one JSON LoadResult line. Each connection sends a request,
 * reads the whole response (Content-Length or chunked), records the latency and sends the next, for `durationMs` after
 * `warmupMs`. Plain TCP or TLS (certificate not verified: 127.0.0.1 only).
 */
import type { Socket } from "bun";

/** What to load. */
export interface LoadSpec {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** Request paths, used round-robin across all requests. */
  readonly paths: readonly string[];
  readonly connections: number;
  readonly durationMs: number;
  readonly warmupMs: number;
}

/** What was measured after the warm-up. */
export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly nonOk: number;
  readonly seconds: number;
  /** Latencies in ms, sorted ascending. */
  readonly latenciesMs: number[];
}

const CRLF_CRLF = Buffer.from("\r\n\r\n");

async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  let pathIndex = 0;
  const latencies: number[] = [];
  let errors = 0;
  let nonOk = 0;
  let measuring = false;
  let stopping = false;
  const nextPath = () => spec.paths[pathIndex++ % spec.paths.length] as string;

  const connection = () =>
    new Promise<void>((resolveDone) => {
      let buffer: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      let socketRef: Socket<undefined> | undefined;
      const send = () => {
        if (stopping) {
          socketRef?.end();
          resolveDone();
          return;
        }
        sentAt = performance.now();
        socketRef?.write(`GET ${nextPath()} HTTP/1.1\r\nHost: ${spec.host}\r\nAccept: application/json\r\n\r\n`);
      };
      const tryParse = () => {
        for (;;) {
          const headerEnd = buffer.indexOf(CRLF_CRLF);
          if (headerEnd < 0) return;
          const head = buffer.subarray(0, headerEnd).toString("latin1");
          const status = Number(head.slice(9, 12));
          const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
          let total: number;
          if (lengthMatch) {
            total = headerEnd + 4 + Number(lengthMatch[1]);
            if (buffer.length < total) return;
          } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
            let at = headerEnd + 4;
            for (;;) {
              const lineEnd = buffer.indexOf("\r\n", at);
              if (lineEnd < 0) return;
              const size = Number.parseInt(buffer.subarray(at, lineEnd).toString("latin1"), 16);
              at = lineEnd + 2 + size + 2;
              if (buffer.length < at) return;
              if (size === 0) break;
            }
            total = at;
          } else {
            total = headerEnd + 4;
          }
          buffer = buffer.subarray(total);
          if (measuring) {
            latencies.push(performance.now() - sentAt);
            if (status !== 200) nonOk++;
          }
          send();
        }
      };
      const handlers = {
        open(socket: Socket<undefined>) {
          socketRef = socket;
          send();
        },
        data(_socket: Socket<undefined>, data: Buffer) {
          buffer = buffer.length === 0 ? data : Buffer.concat([buffer, data]);
          tryParse();
        },
        close() {
          resolveDone();
        },
        error() {
          errors++;
          resolveDone();
        },
      };
      void Bun.connect({
        hostname: spec.host,
        port: spec.port,
        socket: handlers,
        ...(spec.tls ? { tls: { rejectUnauthorized: false } } : {}),
      }).catch(() => {
        errors++;
        resolveDone();
      });
    });

  const done = Promise.all(Array.from({ length: spec.connections }, connection));
  await Bun.sleep(spec.warmupMs);
  measuring = true;
  const started = performance.now();
  await Bun.sleep(spec.durationMs);
  measuring = false;
  const seconds = (performance.now() - started) / 1000;
  stopping = true;
  await done;
  return { requests: latencies.length, errors, nonOk, seconds, latenciesMs: latencies.sort((a, b) => a - b) };
}

if (import.meta.main) {
  const spec = JSON.parse(process.argv[2] ?? "{}") as LoadSpec;
  const result = await runLoad(spec);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
