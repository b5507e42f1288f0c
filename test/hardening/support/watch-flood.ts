import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from "node:http2";

/** What became of each Watch: "held" (its first status arrived), a gRPC status code, or "closed" (neither). */
export type WatchOutcome = "held" | number | "closed";

/** Many Watch calls over bare HTTP/2 connections: the cheapest client, so the attacker's cost stays its own. */
export interface WatchFlood {
  /** Resolves with the count of each outcome once every call has one. */
  readonly settled: Promise<Map<WatchOutcome, number>>;
  /** Cancels every call still open (RST_STREAM CANCEL, as a client's cancel) and closes the connections. */
  close(): void;
}

/** Opens `connections` connections to the gRPC port and `perConnection` Watch calls of "" on each, at once. */
export function floodWatches(address: string, connections: number, perConnection: number): WatchFlood {
  const sessions: ClientHttp2Session[] = [];
  const streams: ClientHttp2Stream[] = [];
  const outcomes: Promise<WatchOutcome>[] = [];
  for (let c = 0; c < connections; c++) {
    const session = connect(`http://${address}`);
    session.on("error", () => undefined);
    sessions.push(session);
    for (let i = 0; i < perConnection; i++) {
      const stream = watchOn(session);
      streams.push(stream);
      outcomes.push(outcomeOf(stream));
    }
  }
  return {
    settled: Promise.all(outcomes).then((all) => {
      const counts = new Map<WatchOutcome, number>();
      for (const outcome of all) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
      return counts;
    }),
    close() {
      for (const stream of streams) if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
      for (const session of sessions) session.close();
    },
  };
}

function watchOn(session: ClientHttp2Session): ClientHttp2Stream {
  const stream = session.request({
    ":method": "POST",
    ":path": "/grpc.health.v1.Health/Watch",
    "content-type": "application/grpc",
    te: "trailers",
  });
  stream.on("error", () => undefined);
  // One length-prefixed message: not compressed, zero bytes long (an empty HealthCheckRequest, service "").
  stream.end(Buffer.alloc(5));
  return stream;
}

// A refused call is answered with headers that carry its grpc-status at once (a trailers-only response).
function outcomeOf(stream: ClientHttp2Stream): Promise<WatchOutcome> {
  return new Promise((resolve) => {
    stream.once("response", (headers) => {
      const code = headers["grpc-status"];
      if (code !== undefined) resolve(Number(code));
    });
    stream.once("data", () => resolve("held"));
    stream.once("close", () => resolve("closed"));
  });
}

/** Opens `count` HTTP/2 connections that never send a call; resolves once each is admitted or closed. */
export async function openIdleConnections(
  address: string,
  count: number,
): Promise<{ admitted: number; close(): void }> {
  const sessions = Array.from({ length: count }, () => {
    const session = connect(`http://${address}`);
    session.on("error", () => undefined);
    return session;
  });
  const admitted = await Promise.all(
    sessions.map(
      (session) =>
        new Promise<boolean>((resolve) => {
          session.once("remoteSettings", () => resolve(true));
          session.once("close", () => resolve(false));
        }),
    ),
  );
  return {
    admitted: admitted.filter(Boolean).length,
    close() {
      for (const session of sessions) session.destroy();
    },
  };
}
