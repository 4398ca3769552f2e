import { compareEntryKeys } from "../util/compare.ts";
/**
 * Plain-text tables for the terminal output of `check` and `explain`: a header row, columns padded to their widest
 * cell, two spaces between columns, no trailing spaces. Cells are single-line (newlines and tabs become spaces).
 */

/** Formats `rows` under `headers`; every line is prefixed with `indent` spaces (default 0). Ends with a newline. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], indent = 0): string {
  const clean = (cell: string | undefined) => (cell ?? "").replace(/[\r\n\t]+/g, " ");
  const all = [headers.map(clean), ...rows.map((row) => headers.map((_, column) => clean(row[column])))];
  const widths = headers.map((_, column) => Math.max(...all.map((row) => displayWidth(row[column] ?? ""))));
  const pad = " ".repeat(indent);
  const lines = all.map((row) => {
    const cells = row.map((cell, column) =>
      column === row.length - 1 ? cell : cell + " ".repeat((widths[column] ?? 0) - displayWidth(cell)),
    );
    return `${pad}${cells.join("  ")}`.trimEnd();
  });
  return `${lines.join("\n")}\n`;
}

/** Characters as a terminal shows them: code points (combining marks and wide characters are not special-cased). */
function displayWidth(text: string): number {
  let width = 0;
  for (const _ of text) width++;
  return width;
}

/** `{a="1", b="2"}`, labels sorted by name, values quoted the way PromQL shows them; `{}` for none. */
export function formatLabels(labels: Readonly<Record<string, string>>): string {
  const entries = Object.entries(labels).sort(compareEntryKeys);
  return `{${entries.map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(", ")}}`;
}
