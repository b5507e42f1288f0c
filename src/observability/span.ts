import { SpanStatusCode, type Attributes, type Span, type Tracer } from "@opentelemetry/api";
import { errorCode } from "./error-code.js";

/**
 * Runs `work` in a new active span, ending it either way. A failure marks the span with the error's code only:
 * messages can quote input, and spans leave the process.
 */
export function inSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      const code = errorCode(error);
      span.setAttribute("rolemapper.error_code", code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: code });
      throw error;
    } finally {
      span.end();
    }
  });
}
