// Files imported `with { type: "text" }` (Bun embeds them, also in the compiled binary) arrive as strings.
declare module "*.yaml" {
  const text: string;
  export default text;
}
