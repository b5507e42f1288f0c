/** What the Dockerfile's build stage copies from the context, in the order it copies them. */
export const BUILD_INPUTS = ["package.json", "package-lock.json", "tsconfig.json", "build.mjs", "src"];

/** What the Dockerfile's runtime stage copies from the context (beside node_modules and dist from stages). */
export const RUNTIME_FROM_CONTEXT = ["package.json", "proto"];

/** One stage of a Dockerfile: its base, its name, and its instructions (continuation lines joined). */
export interface Stage {
  from: string;
  name: string | undefined;
  instructions: { op: string; args: string }[];
}

/** The global ARG defaults and the stages of a Dockerfile's text. */
export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op = "", rest = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { op: op.toUpperCase(), args: rest.replace(/\s+/g, " ") };
    if (instruction.op === "FROM") {
      const [, from = "", name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args) ?? [];
      stages.push({ from, name, instructions: [] });
    } else if (stages.length === 0 && instruction.op === "ARG") {
      const [key = "", value = ""] = instruction.args.split("=");
      args[key] = value;
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { args, stages };
}

/** The sources of a stage's COPY instructions without --from (i.e. from the build context). */
export function contextCopies(stage: Stage): string[] {
  return stage.instructions
    .filter((i) => i.op === "COPY" && !i.args.includes("--from="))
    .flatMap((i) =>
      i.args
        .split(" ")
        .filter((word) => !word.startsWith("--"))
        .slice(0, -1),
    );
}
