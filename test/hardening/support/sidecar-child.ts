// The child of sidecar-process.ts: one hardening sidecar, configured by the JSON environment in argv[2].
import { FakeStore } from "../../support/fake-store.js";
import { seedHardeningMapping } from "./mapping.js";
import { startTestSidecar } from "../../support/sidecar-harness.js";

const env = JSON.parse(process.argv[2] ?? "{}") as Record<string, string>;
// Silent: this process is measured, and its lines would grow it.
const running = await startTestSidecar({ LOG_LEVEL: "silent", ...env }, { store: new FakeStore() });
await seedHardeningMapping(running.sidecar.service);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  running.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.on("message", (message) => {
  if (message === "stop") stop();
});
// The parent gone (a test run killed): stop too rather than linger.
process.on("disconnect", stop);
process.send?.({ ready: { ports: running.ports, dataDir: running.dataDir } });
