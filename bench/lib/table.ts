/** Plain-text tables for the terminal and README. */

/** Renders rows as a Markdown table (which also reads fine in a terminal). */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  return [line(header), `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

export const ms = (value: number) =>
  Number.isFinite(value) ? (value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(2)} ms`) : "n/a";
export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
export const rps = (value: number) => `${Math.round(value)} req/s`;
export const ratio = (value: number) => `${value.toFixed(2)}×`;
