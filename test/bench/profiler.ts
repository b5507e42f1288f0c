import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import type { Child } from "./child.js";

/**
 * In a child: lets the parent profile a window of its life (`{profile: "start"}` … `{profile: "stop", path}`),
 * so a CPU profile shows the load phase alone, not start-up or seeding. Answers `{profiled: path}`.
 */
export function acceptProfiling(): void {
  let session: Session | undefined;
  process.on("message", (message: { profile?: string; path?: string }) => {
    if (message.profile === "start") {
      session = new Session();
      session.connect();
      void session
        .post("Profiler.enable")
        .then(() => session?.post("Profiler.start"))
        .then(() => process.send?.({ profiling: true }));
    } else if (message.profile === "stop" && session && message.path) {
      const path = message.path;
      void session.post("Profiler.stop").then(({ profile }) => {
        writeFileSync(path, JSON.stringify(profile));
        session?.disconnect();
        session = undefined;
        process.send?.({ profiled: path });
      });
    }
  });
}

/** In the parent: starts profiling `child`, runs `work`, and writes the profile of that window to `path`. */
export async function profileWindow<T>(
  child: Child<unknown>,
  path: string,
  work: () => Promise<T>,
): Promise<T> {
  await ask(child, { profile: "start" }, "profiling");
  const result = await work();
  await ask(child, { profile: "stop", path }, "profiled");
  return result;
}

function ask(child: Child<unknown>, message: object, answer: string): Promise<void> {
  return new Promise((resolve) => {
    const listener = (reply: Record<string, unknown>) => {
      if (reply[answer] === undefined) return;
      child.process.off("message", listener);
      resolve();
    };
    child.process.on("message", listener);
    child.process.send(message);
  });
}
