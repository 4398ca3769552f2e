/**
 * A problem found while compiling a rule (bad regex, template or resource) or while naming or querying with it.
 * `field` is the path below the rule (e.g. `name.matches`), so the caller can point at the right YAML node.
 */
export class NamingError extends Error {
  override readonly name = "NamingError";
  constructor(
    message: string,
    /** Path below the rule that caused it, e.g. `resources.overrides.pod`; empty when unknown. */
    readonly field = "",
  ) {
    super(message);
  }
}
