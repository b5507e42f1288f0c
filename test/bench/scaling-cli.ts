/** The scaling micro-benchmark alone: `npx tsx test/bench/scaling-cli.ts [ms per round, default 500]`. */
import { measureScaling } from "./scaling.js";

console.log(JSON.stringify(await measureScaling(Number(process.argv[2] ?? 500)), null, 1));
