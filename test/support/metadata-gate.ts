import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** What the gate does with a metadata call: keeps it unanswered, closes its connection, or forwards it. */
export type GateMode = "hold" | "refuse" | "open";

/** A proxy in front of Hasura's metadata endpoint, as a Hasura that is starting or gone looks to a client. */
export interface MetadataGate {
  readonly url: string;
  /** Where calls are forwarded when open (set once the stand-in is up). */
  target: string | undefined;
  mode: GateMode;
  /** Calls held unanswered right now. */
  held(): number;
  /** The `type` of every call forwarded and answered with 200, in order. */
  answered(): readonly string[];
  close(): Promise<void>;
}

/** Starts a gate on port 0, in `mode`. Switching to another mode lets go of the calls held. */
export async function startMetadataGate(mode: GateMode): Promise<MetadataGate> {
  const holding = new Set<ServerResponse>();
  const answered: string[] = [];
  const sockets = new Set<Socket>();
  let current = mode;
  const gate = {
    url: "",
    target: undefined as string | undefined,
    get mode() {
      return current;
    },
    set mode(next: GateMode) {
      current = next;
      for (const res of holding) res.socket?.destroy();
      holding.clear();
    },
    held: () => holding.size,
    answered: () => answered,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const response = await fetch(gate.target ?? "", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-hasura-admin-secret": String(req.headers["x-hasura-admin-secret"]),
      },
      body,
    });
    const text = await response.text();
    if (response.ok) answered.push((JSON.parse(body.toString()) as { type: string }).type);
    res.writeHead(response.status, { "content-type": "application/json" });
    res.end(text);
  };
  const server = createServer((req, res) => {
    if (current === "hold") holding.add(res);
    else if (current === "refuse") req.socket.destroy();
    else forward(req, res).catch(() => req.socket.destroy());
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  gate.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metadata`;
  return gate;
}
