import { z } from 'zod';

/**
 * A bad environment value, found when the config is loaded at boot. runServer
 * logs its message (which names every offending variable) and exits 2, so an
 * orchestrator tells a misconfigured process from one that crashed (1).
 * Each service throws its own subclass (GatewayConfigError, …).
 */
export class ConfigError extends Error {
  override readonly name: string = 'ConfigError';
}

/**
 * The environment without its empty values: `FOO=` (a blank line in a .env
 * file, an unset Helm value) means "use the default", as if FOO were absent.
 */
export function withoutEmptyValues(env: NodeJS.ProcessEnv): Record<string, string> {
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') present[name] = value;
  }
  return present;
}

// Decimal digits and nothing else. Number() and z.coerce would also take
// "0x10", "1e3", "1.5" (then refused as not an integer), " 12" and "+5": in a
// setting those are typos or a different tool's syntax, never what was meant.
const DECIMAL_DIGITS = /^\d+$/;

/**
 * An integer setting written in decimal digits, between `min` and `max`
 * inclusive. Add `.default(n)` for the value an absent variable takes.
 */
export function decimalInteger(min: number, max: number) {
  return z
    .string()
    .regex(DECIMAL_DIGITS, 'must be a whole number in decimal digits (0-9 only)')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

/** One line per problem, `  NAME: what is wrong`, as config errors list them. */
export function configProblems(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`);
}

/** `invalid <service> configuration:` and the problems, one per indented line. */
export function configErrorMessage(service: string, problems: readonly string[]): string {
  return `invalid ${service} configuration:\n${problems.map((problem) => `  ${problem}`).join('\n')}`;
}
