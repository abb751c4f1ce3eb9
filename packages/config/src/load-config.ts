import { envSchema, type Env } from './env.schema';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment once; a bad variable becomes one line naming it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Env {
  const result = envSchema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0] ?? 'environment');
  throw new ConfigError(`invalid configuration: ${name} ${issue.message}`);
}

/**
 * For a process entry point: print the one-line reason and exit 1. `check` adds what
 * only that process requires, reported the same way.
 */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env, check?: (env: Env) => void): Env {
  try {
    const config = loadConfig(env);
    check?.(config);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
