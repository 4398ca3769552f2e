/** Errors of the `<< >>` template engine (query-template.ts and its lexer, parser and value helpers). */

/** A template that cannot be compiled: bad syntax, an unsupported construct, an unknown field or function. */
export class TemplateCompileError extends Error {
  override readonly name = "TemplateCompileError";

  /**
   * @param detail what is wrong, without position
   * @param offset UTF-16 index into the template source where the problem is
   */
  constructor(
    readonly detail: string,
    readonly offset: number,
  ) {
    super(`template: offset ${offset}: ${detail}`);
  }
}

/** A compiled template that failed while executing on some data (for example `index` of a string by a string). */
export class TemplateExecutionError extends Error {
  override readonly name = "TemplateExecutionError";

  /**
   * @param detail what went wrong, without position
   * @param offset UTF-16 index into the template source of the command that failed; -1 while not yet known
   */
  constructor(
    readonly detail: string,
    readonly offset: number = -1,
  ) {
    super(offset < 0 ? `template: ${detail}` : `template: offset ${offset}: ${detail}`);
  }
}
