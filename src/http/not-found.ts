import type { RequestHandler } from "express";

/** The last handler of every listener: a JSON 404 instead of express's HTML page. */
export const notFound: RequestHandler = (_req, res) => {
  res.status(404).json("Not found");
};
