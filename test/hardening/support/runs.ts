/** Total fuzz cases across the hardening properties: FC_NUM_RUNS, or a few thousand by default. */
export const TOTAL_RUNS = readTotal(process.env.FC_NUM_RUNS, 3_000);

/** This property's share of TOTAL_RUNS (at least 10 cases). */
export function runs(share: number): number {
  return Math.max(10, Math.round(TOTAL_RUNS * share));
}

/** Seed for reproducing a failure (FC_SEED), else fast-check picks one and prints it on failure. */
export const FC_SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);

function readTotal(value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new Error(`FC_NUM_RUNS: expected a positive integer, got "${value}"`);
  return parsed;
}

/** A test timeout that grows with the property's runs (each may cost a few store round trips). */
export function fuzzTimeout(share: number): number {
  return Math.max(30_000, runs(share) * 25);
}
