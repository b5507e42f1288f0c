import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A reverse proxy on 127.0.0.1 that holds each request `delayMs` before passing it to `target`. */
export class DelayProxy {
  /** Added before forwarding each request; change it at any time. */
  delayMs = 0;
  /** Requests received. */
  requests = 0;
  /** Requests whose path passes this are never answered (a hung upstream for some callers only). */
  hang: (path: string) => boolean = () => false;
  private readonly server = createServer((req, res) => void this.forward(req, res));

  private constructor(private readonly target: URL) {}

  /** Starts a proxy in front of `target` (its origin; paths pass through unchanged). */
  static async start(target: string): Promise<DelayProxy> {
    const proxy = new DelayProxy(new URL(target));
    await new Promise<void>((resolve) => proxy.server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  /** The proxy's origin. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Stops the proxy. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests += 1;
    if (this.hang(req.url ?? "/")) return; // the client's timeout, or close(), ends it
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const upstream = request(
      new URL(req.url ?? "/", this.target),
      { method: req.method, headers: { ...req.headers, host: this.target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    res.on("close", () => upstream.destroy());
    upstream.end(Buffer.concat(chunks));
  }
}
