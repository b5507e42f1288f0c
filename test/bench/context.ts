import type { JwksIssuer } from "../support/jwks-issuer.js";
import type { Child } from "./child.js";

/** Connections of the throughput runs. */
export const CONNECTIONS = 64;

/** How long and how much each scenario runs: `--quick` or full. */
export interface Plan {
  readonly quick: boolean;
  readonly seconds: number;
  readonly coldTokens: number;
  readonly upserts: number;
  readonly grantRows: readonly number[];
  readonly scalingMs: number;
  /** The warm run with every decision logged (full runs only). */
  readonly logged: boolean;
  readonly footprintIdleMs: number;
}

/** What every scenario of one benchmark run shares: the plan, the issuer, the figures and the child processes. */
export class BenchContext {
  /** Every figure, printed as the last line of output. */
  readonly figures: Record<string, unknown> = {};
  /** Figures compared with one another (the baselines above all), printed under `ratios`. */
  readonly ratios: Record<string, number> = {};
  private readonly children: Child<unknown>[] = [];
  private readonly started = Date.now();

  constructor(
    readonly plan: Plan,
    readonly issuer: JwksIssuer,
    /** The embedded store's directory of the benchmark sidecars. */
    readonly dataDir: string,
    /** Where CPU profiles of the sidecar go (`--cpu-prof`), if anywhere. */
    readonly profileDir: string | undefined,
  ) {}

  /** A progress line on stdout, stamped with the seconds since the run started. */
  log(line: string): void {
    console.log(`[${this.elapsedSeconds().toFixed(1)}s] ${line}`);
  }

  elapsedSeconds(): number {
    return (Date.now() - this.started) / 1000;
  }

  /** Keeps `child` to be stopped at the end if nothing stops it before. */
  track<T>(child: Child<T>): Child<T> {
    this.children.push(child as Child<unknown>);
    return child;
  }

  async stop(child: Child<unknown>): Promise<void> {
    await child.stop();
    this.children.splice(this.children.indexOf(child), 1);
  }

  async stopAll(): Promise<void> {
    for (const child of this.children.splice(0)) await child.stop().catch(() => undefined);
  }
}
