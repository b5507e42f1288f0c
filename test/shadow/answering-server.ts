import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Answers a call once its whole body has arrived, as the test says. */
export type Answerer = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A previous webhook on 127.0.0.1 and port 0, answering as `handle` says; `url` is its /v1/authenticate. */
export interface AnsweringServer {
  readonly server: Server;
  readonly url: string;
  /** Drops its connections and stops listening. */
  close(): Promise<void>;
}

/** Starts one; `credentials` ("user:pass@") go into the URL, as an operator would write them. */
export async function startAnsweringServer(handle: Answerer, credentials = ""): Promise<AnsweringServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => handle(req, res, Buffer.concat(chunks).toString()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${credentials}127.0.0.1:${port}/v1/authenticate`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
