import type { RequestHandler } from "express";
import { runAsApiCaller } from "./api-caller-scope.js";

/**
 * Express middleware putting each REST request in an API caller scope until its response is done. The caller is
 * only known once the API's own authentication has run (it leaves it in `res.locals.caller`), so the name is read
 * when a write asks.
 */
export function restCallerScope(): RequestHandler {
  return (_req, res, next) => {
    const name = (): string | undefined => {
      const caller = res.locals.caller as { name?: unknown } | undefined;
      return typeof caller?.name === "string" ? caller.name : undefined;
    };
    const answered = () =>
      new Promise<void>((resolve) => {
        res.once("close", () => resolve());
        next();
      });
    void runAsApiCaller({ transport: "rest", name }, answered);
  };
}
