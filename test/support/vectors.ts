/** Reads the spec's machine-readable test vectors (../shared/spec/vectors/*.json) directly. */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface VectorCase<Input = Record<string, unknown>> {
  readonly name: string;
  readonly input: Input & { readonly kind: string };
  readonly expected: unknown;
  readonly note?: string;
}

/** Where the spec lives: `SPEC_DIR`, else `../shared/spec` beside the checkout. */
export const SPEC_DIR = process.env.PROM_ADAPTER_SPEC_DIR ?? join(import.meta.dir, "..", "..", "..", "shared", "spec");

/** Every case of a vector file, optionally only those of one `input.kind`. */
export function vectorCases<Input = Record<string, unknown>>(file: string, kind?: string): VectorCase<Input>[] {
  const parsed = JSON.parse(readFileSync(join(SPEC_DIR, "vectors", file), "utf8")) as { cases: VectorCase<Input>[] };
  return kind === undefined ? parsed.cases : parsed.cases.filter((c) => c.input.kind === kind);
}
