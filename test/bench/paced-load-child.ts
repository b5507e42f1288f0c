/** Runs one paced load for its parent (runPacedLoadApart) in a fresh process, and sends back the result. */
import { runPacedLoad, type PacedLoadOptions } from "./paced-load.js";

process.once("message", (options: PacedLoadOptions) => {
  runPacedLoad(options).then(
    (result) => process.send?.({ result }, () => process.exit(0)),
    (error: unknown) => process.send?.({ failed: String(error) }, () => process.exit(1)),
  );
});
