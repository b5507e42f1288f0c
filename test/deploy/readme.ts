import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./manifests.js";

/** deploy/README.md's text. */
export const DEPLOY_README = readFileSync(join(ROOT, "deploy", "README.md"), "utf8");

/** The text of each `## ` section of deploy/README.md, by heading (without the hashes). */
export function sections(text = DEPLOY_README): Map<string, string> {
  const found = new Map<string, string>();
  const parts = text.split(/^## /m).slice(1);
  for (const part of parts) {
    const newline = part.indexOf("\n");
    found.set(part.slice(0, newline).trim(), part.slice(newline + 1));
  }
  return found;
}

/** The rows of the first Markdown table in `text`, each a list of trimmed cells (header and rule left out). */
export function tableRows(text: string): string[][] {
  const lines = text.split("\n").filter((line) => line.startsWith("|"));
  return lines.slice(2).map((line) =>
    line
      .slice(1, -1)
      .split("|")
      .map((cell) => cell.trim()),
  );
}
