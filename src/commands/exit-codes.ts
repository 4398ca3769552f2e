/**
 * Exit codes of `check` and `explain` (documented in docs/troubleshooting.md and in each command's --help):
 * 0 everything fine; 1 problems found (invalid rules, an empty or failed answer); 2 usage error (bad flags or path);
 * 3 Prometheus or the Kubernetes API unreachable.
 */
export const EXIT_OK = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;
