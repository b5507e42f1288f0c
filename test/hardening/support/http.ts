import { Agent, request } from "node:http";

// Connections are reused across the thousands of fuzz requests; each test file has its own.
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** A status and body as a client sees them. */
export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
}

/** Sends one request over a fresh connection and reads the whole answer; `body` goes out byte for byte. */
export function send(
  url: string,
  method: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent,
        headers: {
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, text, json: parseJson(text) });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** POSTs a webhook body (an object, sent as JSON, or raw bytes) to /v1/authenticate. */
export function postWebhook(baseUrl: string, body: unknown, raw?: string | Buffer): Promise<HttpAnswer> {
  return send(`${baseUrl}/v1/authenticate`, "POST", raw ?? JSON.stringify(body));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
