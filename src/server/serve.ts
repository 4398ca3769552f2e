/**
 * The HTTPS listener: TLS that requests (never requires) a client certificate, HTTP/1.1, and a bridge to a Fetch
 * handler such as Elysia's `app.handle`. It binds, records each request's client certificate and raw header lines,
 * enforces connection timeouts and drains on close.
 *
 * NB: built from `node:tls` + `node:http` instead of `Bun.serve`, because Bun.serve cannot show a handler the client
 * certificate (oven-sh/bun#14097) and `node:https` under Bun hands over a plain socket (oven-sh/bun#37251).
 * Each secure socket is given to an unbound `node:http` server with `emit("connection")`, where
 * `getPeerCertificate(true)` is correct. Bun (1.4.5) does not enforce `headersTimeout`, `requestTimeout` or
 * `keepAliveTimeout` on such sockets, nor close a socket whose handshake timed out, so this module does.
 *
 * Throughput, measured by hand on loopback (Bun 1.4.5, 2-core VM, client on the same machine: 64 concurrent
 * keep-alive `fetch` loops for 3 s, GET answered "ok"): this bridge 13–15k req/s; a bare node:http-over-node:tls
 * handler (`res.end("ok")`, no Fetch bridge) 15k; a plain `Bun.serve` TLS hello world 26–30k. So the bridge costs
 * about half of Bun.serve's rate, almost all of it in Bun's node:http; ample for an API the HPA calls every 15 s.
 */
import http from "node:http";
import type { Socket } from "node:net";
import tls from "node:tls";
import type { TLSSocket } from "node:tls";
import {
  MalformedHostError,
  setHardeningHeaders,
  toFetchRequest,
  writeFetchResponse,
  type ListenerAddress,
} from "./fetch-bridge.ts";
import { recordRawHeaders } from "./raw-headers.ts";
import { peerCertificateOfSocket, recordPeerCertificate, type PeerCertificate } from "./tls-peer.ts";

/** Where a reported error happened; none of them stops the server. */
export type ServerErrorSource =
  | "tls-handshake" // failed or timed-out handshake, plain HTTP on the TLS port
  | "client-request" // unparsable request, oversized headers, reset while reading
  | "handler" // the handler threw or rejected (answered with a 500 Status)
  | "response" // the response body failed midway or could not be written
  | "connection"; // socket error on an established connection (usually a client reset)

/** Serving certificate and the CA bundles client certificates are verified against. */
export interface TlsMaterial {
  /** Serving certificate PEM, optionally followed by its chain. */
  certPem: string;
  /** Private key PEM of the serving certificate. */
  keyPem: string;
  /**
   * CA bundles (all of them: client CA and front-proxy CA) the TLS handshake verifies client certificates against.
   * A certificate is requested but never required, and a handshake is never refused for it: the verdict is recorded
   * (tls-peer.ts) and authentication decides which bundle the chain ended at. Default none: no certificate is
   * trusted by any bundle.
   */
  clientCaPems?: string[];
}

/** Options of {@link startHttpsServer}. */
export interface HttpsServerOptions extends TlsMaterial {
  /** Answers one request; a throw or rejection becomes a 500 Status. */
  handle: (request: Request) => Promise<Response>;
  /** Address to bind, e.g. "0.0.0.0" or "127.0.0.1". */
  host: string;
  /** Port to bind; 0 picks a free one (read it from the result). */
  port: number;
  /** Time allowed for the TLS handshake and for the first request's headers, in ms; default 10 000. */
  headersTimeoutMs?: number;
  /** Time allowed to receive a request body after its headers, in ms; default 60 000. */
  requestTimeoutMs?: number;
  /**
   * Idle time after a response before a keep-alive connection is closed, in ms; default 5 000. It also bounds how
   * long the next request's headers may take to complete on that connection.
   */
  keepAliveTimeoutMs?: number;
  /** Largest request line plus headers, in bytes; larger requests get 431. Default 16 384. */
  maxHeaderBytes?: number;
  /** Told about every swallowed error; default ignores them. */
  onError?: (error: Error, source: ServerErrorSource) => void;
}

/** A running listener. */
export interface HttpsServer {
  /** The bound port. */
  readonly port: number;
  /**
   * Replaces the serving certificate and client CA bundles for new connections (certificate or ConfigMap reload).
   * Open connections whose client certificate the handshake refused are closed (idle ones at once, busy ones after
   * their current responses, which say `Connection: close`), so a client whose CA has just been added handshakes
   * again instead of keeping a refused verdict for the life of a keep-alive connection.
   */
  updateTls(material: TlsMaterial): void;
  /**
   * Stops accepting, closes idle connections, lets in-flight requests finish for up to `graceMs` milliseconds, then
   * destroys what is left. Calling it again returns the same promise.
   */
  close(graceMs: number): Promise<void>;
}

const INTERNAL_ERROR_STATUS = JSON.stringify({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message: "Internal error occurred",
  reason: "InternalError",
  code: 500,
});

const MALFORMED_HOST_STATUS = JSON.stringify({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message: "the Host header is not a valid host",
  reason: "BadRequest",
  code: 400,
});

interface Connection {
  socket: TLSSocket;
  inFlight: number;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Read once per connection; null when the client sent no certificate. */
  peer: PeerCertificate | null | undefined;
  /** Set when the client CAs changed after this connection's handshake refused its certificate: close it. */
  refusedBeforeCaChange: boolean;
}

/** Binds the HTTPS listener and starts serving `handle`. Rejects if the address cannot be bound. */
export async function startHttpsServer({
  handle,
  host,
  port,
  certPem,
  keyPem,
  clientCaPems,
  headersTimeoutMs = 10_000,
  requestTimeoutMs = 60_000,
  keepAliveTimeoutMs = 5_000,
  maxHeaderBytes = 16_384,
  onError = () => {},
}: HttpsServerOptions): Promise<HttpsServer> {
  const connections = new Map<TLSSocket, Connection>();
  const rawSockets = new Set<Socket>();
  let closing = false;
  let drained: (() => void) | undefined;

  const tlsServer = tls.createServer({
    ...secureContextOptions({ certPem, keyPem, clientCaPems }),
    requestCert: true,
    rejectUnauthorized: false,
    handshakeTimeout: headersTimeoutMs,
    ALPNProtocols: ["http/1.1"],
  });
  const httpServer = http.createServer({ maxHeaderSize: maxHeaderBytes });
  let address: ListenerAddress = { host, port };

  function settleDrain(): void {
    if (drained && connections.size === 0 && rawSockets.size === 0) drained();
  }

  function armIdleTimer(connection: Connection, ms: number): void {
    clearTimeout(connection.idleTimer);
    connection.idleTimer = setTimeout(() => {
      if (connection.inFlight === 0) connection.socket.destroy();
    }, ms);
  }

  tlsServer.on("connection", (raw: Socket) => {
    rawSockets.add(raw);
    raw.once("close", () => {
      rawSockets.delete(raw);
      settleDrain();
    });
    if (closing) raw.destroy();
  });

  tlsServer.on("tlsClientError", (error: Error, socket: TLSSocket) => {
    onError(error, "tls-handshake");
    socket.destroy();
  });

  tlsServer.on("secureConnection", (socket: TLSSocket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    const connection: Connection = {
      socket,
      inFlight: 0,
      idleTimer: undefined,
      peer: undefined,
      refusedBeforeCaChange: false,
    };
    connections.set(socket, connection);
    armIdleTimer(connection, headersTimeoutMs);
    socket.on("error", (error: Error) => onError(error, "connection"));
    socket.once("close", () => {
      clearTimeout(connection.idleTimer);
      connections.delete(socket);
      settleDrain();
    });
    httpServer.emit("connection", socket);
  });

  httpServer.on("clientError", (error: Error & { code?: string }, socket: Socket) => {
    onError(error, "client-request");
    if (error.code !== "ECONNRESET" && socket.writable) {
      const status = error.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } else {
      socket.destroy();
    }
  });

  httpServer.on("request", (incoming: http.IncomingMessage, outgoing: http.ServerResponse) => {
    const socket = incoming.socket as TLSSocket;
    const connection = connections.get(socket);
    if (connection) {
      connection.inFlight += 1;
      clearTimeout(connection.idleTimer);
    }
    const method = incoming.method ?? "GET";
    const bodyTimer =
      method === "GET" || method === "HEAD"
        ? undefined
        : setTimeout(() => incoming.complete || socket.destroy(), requestTimeoutMs);
    const abort = new AbortController();
    outgoing.once("close", () => {
      clearTimeout(bodyTimer);
      if (!outgoing.writableFinished) abort.abort(new Error("the client closed the connection"));
      if (!connection) return;
      connection.inFlight -= 1;
      if (connection.inFlight > 0) return;
      if (closing || connection.refusedBeforeCaChange) socket.end();
      else armIdleTimer(connection, keepAliveTimeoutMs);
    });
    void serveRequest(incoming, outgoing, connection, abort.signal);
  });

  async function serveRequest(
    incoming: http.IncomingMessage,
    outgoing: http.ServerResponse,
    connection: Connection | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    try {
      let request: Request;
      try {
        request = toFetchRequest(incoming, address, signal);
      } catch (error) {
        if (!(error instanceof MalformedHostError)) throw error;
        onError(error, "client-request");
        writeStatus(outgoing, 400, MALFORMED_HOST_STATUS);
        return;
      }
      recordRawHeaders(request, incoming.rawHeaders);
      const peer = connection ? peerOf(connection) : undefined;
      if (peer) recordPeerCertificate(request, peer);
      let response: Response;
      try {
        response = await handle(request);
      } catch (error) {
        onError(asError(error), "handler");
        writeStatus(outgoing, 500, INTERNAL_ERROR_STATUS);
        return;
      }
      if (closing || connection?.refusedBeforeCaChange) outgoing.setHeader("connection", "close");
      await writeFetchResponse(outgoing, response, incoming.method ?? "GET");
    } catch (error) {
      onError(asError(error), "response");
      if (outgoing.headersSent) outgoing.destroy();
      else writeStatus(outgoing, 500, INTERNAL_ERROR_STATUS);
    }
  }

  function peerOf(connection: Connection): PeerCertificate | undefined {
    if (connection.peer === undefined) {
      try {
        connection.peer = peerCertificateOfSocket(connection.socket) ?? null;
      } catch (error) {
        onError(asError(error), "connection");
        connection.peer = null;
      }
    }
    return connection.peer ?? undefined;
  }

  await new Promise<void>((resolve, reject) => {
    tlsServer.once("error", reject);
    tlsServer.listen(port, host, () => {
      tlsServer.off("error", reject);
      resolve();
    });
  });
  tlsServer.on("error", (error: Error) => onError(error, "connection"));
  const boundPort = (tlsServer.address() as { port: number }).port;
  address = { host, port: boundPort };

  let closed: Promise<void> | undefined;
  async function drain(graceMs: number): Promise<void> {
    closing = true;
    const allClosed = new Promise<void>((resolve) => {
      drained = resolve;
    });
    tlsServer.close();
    for (const connection of connections.values()) {
      if (connection.inFlight === 0) connection.socket.destroy();
    }
    settleDrain();
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([allClosed, new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, graceMs)))]);
    clearTimeout(graceTimer);
    for (const connection of connections.values()) connection.socket.destroy();
    for (const raw of rawSockets) raw.destroy();
  }

  return {
    port: boundPort,
    updateTls(material) {
      tlsServer.setSecureContext(secureContextOptions(material));
      for (const connection of connections.values()) {
        const peer = peerOf(connection);
        if (peer?.verificationError === undefined) continue;
        connection.refusedBeforeCaChange = true;
        if (connection.inFlight === 0) connection.socket.destroy();
      }
    },
    close(graceMs) {
      closed ??= drain(graceMs);
      return closed;
    },
  };
}

function secureContextOptions({ certPem, keyPem, clientCaPems }: TlsMaterial): tls.SecureContextOptions {
  return { cert: certPem, key: keyPem, ...(clientCaPems && clientCaPems.length > 0 ? { ca: clientCaPems } : {}) };
}

function writeStatus(outgoing: http.ServerResponse, code: number, body: string): void {
  if (outgoing.headersSent || outgoing.destroyed) return;
  setHardeningHeaders(outgoing);
  outgoing.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  outgoing.end(body);
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
