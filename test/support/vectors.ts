/**
 * Reads the machine-readable test vectors in test/vectors/*.json. They are kept byte-identical to the copies the
 * project was specified with, so an update is a plain file diff; test/vectors/README.md says where they come from.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface VectorCase<Input = Record<string, unknown>> {
  readonly name: string;
  readonly input: Input & { readonly kind: string };
  readonly expected: unknown;
  readonly note?: string;
}

/** The directory of the vector files, inside this checkout. */
export const VECTOR_DIR = join(import.meta.dir, "..", "vectors");

/** Every case of a vector file as written, typed by the caller (`file` is a name such as `quantity.json`). */
export function vectorFileCases<Case>(file: string): Case[] {
  return (JSON.parse(readFileSync(join(VECTOR_DIR, file), "utf8")) as { cases: Case[] }).cases;
}

/** Every case of a vector file, optionally only those of one `input.kind`. */
export function vectorCases<Input = Record<string, unknown>>(file: string, kind?: string): VectorCase<Input>[] {
  const cases = vectorFileCases<VectorCase<Input>>(file);
  return kind === undefined ? cases : cases.filter((c) => c.input.kind === kind);
}
