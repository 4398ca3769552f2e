/** The program version, from package.json (embedded at build time, also in the compiled binary). */
import packageJson from "../package.json" with { type: "json" };

export const VERSION: string = packageJson.version;
