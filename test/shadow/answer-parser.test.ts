import { describe, expect, it } from "vitest";
import { AnswerParser, MAX_HEAD_BYTES, type ParsedAnswer } from "../../src/shadow/answer-parser.js";
import { MAX_SHADOW_ANSWER_BYTES } from "../../src/shadow/shadow-call.js";

// The answer read from `raw` split into the given pieces; `closed` when the connection ends after them.
function parse(pieces: readonly string[], closed = false): ParsedAnswer | undefined {
  const parser = new AnswerParser();
  for (const piece of pieces) {
    const parsed = parser.push(Buffer.from(piece, "latin1"));
    if (parsed) return parsed;
  }
  return closed ? parser.end() : undefined;
}

// Every way of cutting `raw` in two, and byte by byte: the answer must not depend on how the bytes arrive.
function everySplit(raw: string, closed = false): ParsedAnswer[] {
  const results = [parse([raw], closed), parse([...raw], closed)];
  for (let at = 1; at < raw.length; at++) results.push(parse([raw.slice(0, at), raw.slice(at)], closed));
  return results.map((result) => {
    if (!result) throw new Error("no answer");
    return result;
  });
}

const shown = ({ answer, reusable }: ParsedAnswer) => ({
  status: answer.status,
  contentType: answer.contentType,
  body: answer.body.toString("latin1"),
  reusable,
});

describe("AnswerParser", () => {
  it("reads an answer with a length, however its bytes are split", () => {
    const raw =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 24\r\n\r\n" +
      '{"X-Hasura-Role":"user"}';
    for (const parsed of everySplit(raw))
      expect(shown(parsed)).toEqual({
        status: 200,
        contentType: "application/json",
        body: '{"X-Hasura-Role":"user"}',
        reusable: true,
      });
  });

  it("reads a chunked answer with chunk extensions and trailers, however its bytes are split", () => {
    const raw =
      "HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "5;note=x\r\nUnaut\r\n7\r\nhorized\r\n0\r\nX-Trailer: yes\r\n\r\n";
    for (const parsed of everySplit(raw))
      expect(shown(parsed)).toEqual({
        status: 401,
        contentType: "text/plain",
        body: "Unauthorized",
        reusable: true,
      });
  });

  it("reads a body that runs to the connection's close, and does not reuse the connection", () => {
    const raw = "HTTP/1.0 200 OK\r\ncontent-type: application/json\r\n\r\n{}";
    for (const parsed of everySplit(raw, true))
      expect(shown(parsed)).toEqual({
        status: 200,
        contentType: "application/json",
        body: "{}",
        reusable: false,
      });
    expect(parse([raw])).toBeUndefined();
  });

  it("skips informational answers before the final one", () => {
    const raw = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + ANSWER_401;
    for (const parsed of everySplit(raw))
      expect(shown(parsed)).toMatchObject({ status: 401, body: "Unauthorized" });
  });

  it("reads no body on 204 and 304, whatever length they name", () => {
    expect(shown(parse(["HTTP/1.1 204 No Content\r\n\r\n"])!)).toMatchObject({ status: 204, body: "" });
    expect(shown(parse(["HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n"])!)).toMatchObject({
      status: 304,
      body: "",
    });
  });

  it("does not reuse a connection the answer closes, or that carries bytes after the answer", () => {
    expect(parse(["HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 2\r\n\r\n{}"])?.reusable).toBe(
      false,
    );
    expect(
      parse(["HTTP/1.0 200 OK\r\nConnection: keep-alive\r\ncontent-length: 2\r\n\r\n{}"])?.reusable,
    ).toBe(true);
    expect(parse([`${ANSWER_401}HTTP/1.1 200 OK\r\n`])?.reusable).toBe(false);
  });

  it("refuses an answer over MAX_SHADOW_ANSWER_BYTES, by its length, its chunks or its bytes", () => {
    const over = MAX_SHADOW_ANSWER_BYTES + 1;
    const tooLarge = { code: "SHADOW_ANSWER_TOO_LARGE" };
    expect(() => parse([`HTTP/1.1 200 OK\r\ncontent-length: ${over}\r\n\r\n`])).toThrow(
      expect.objectContaining(tooLarge),
    );
    expect(() =>
      parse([`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${over.toString(16)}\r\n`]),
    ).toThrow(expect.objectContaining(tooLarge));
    const halves = `8000\r\n${"x".repeat(0x8000)}\r\n`;
    expect(() =>
      parse([`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${halves}${halves}1\r\n`]),
    ).toThrow(expect.objectContaining(tooLarge));
    expect(() => parse([`HTTP/1.1 200 OK\r\n\r\n${"x".repeat(over)}`])).toThrow(
      expect.objectContaining(tooLarge),
    );
  });

  it("refuses what is not an HTTP/1.x answer a webhook gives", () => {
    const refused = [
      "SSH-2.0-OpenSSH_9.6\r\n\r\n",
      "HTTP/2 200\r\n\r\n",
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
      "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
      "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n",
      "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabc\r\n",
      `HTTP/1.1 200 OK\r\nx-long: ${"x".repeat(MAX_HEAD_BYTES)}`,
    ];
    for (const raw of refused)
      expect(() => parse([raw]), raw.slice(0, 40)).toThrow(
        expect.objectContaining({ code: "SHADOW_BAD_ANSWER" }),
      );
  });

  it("fails when the connection ends before an answer with a length or chunks is complete", () => {
    for (const raw of [
      "HTTP/1.1 200 OK\r\ncontent-len",
      "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{}",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n",
    ])
      expect(() => parse([raw], true)).toThrow(expect.objectContaining({ code: "SHADOW_BAD_ANSWER" }));
  });
});

const ANSWER_401 = "HTTP/1.1 401 Unauthorized\r\ncontent-length: 12\r\n\r\nUnauthorized";
