import { z } from 'zod';
import { lunNameSchema } from './lun.schema';

/** What a bulk create's name_pattern may say about each node. */
export const NAME_PATTERN_PLACEHOLDERS = ['hostname', 'node_id', 'index'] as const;
export type NamePatternPlaceholder = (typeof NAME_PATTERN_PLACEHOLDERS)[number];

/** The values one node gives the placeholders; {index} is its 1-based position in the request. */
export interface NamePatternValues {
  hostname: string | null;
  node_id: string;
  index: number;
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
const LITERAL = /^[A-Za-z0-9-]*$/;

/**
 * Why a pattern can never give names (empty list: it is well formed). A pattern needs at
 * least one placeholder, or every node would get the same name; outside its placeholders
 * it may hold only what a LUN name may (letters, digits, hyphens).
 */
export function namePatternProblems(pattern: string): string[] {
  const problems: string[] = [];
  const names = [...pattern.matchAll(PLACEHOLDER)].map((m) => m[1]!);
  for (const name of names) {
    if (!(NAME_PATTERN_PLACEHOLDERS as readonly string[]).includes(name)) problems.push(`{${name}} is not a placeholder; use ${NAME_PATTERN_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`);
  }
  if (!names.some((name) => (NAME_PATTERN_PLACEHOLDERS as readonly string[]).includes(name))) problems.push(`must contain at least one of ${NAME_PATTERN_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}, so that every node gets its own name`);
  const literal = pattern.replace(PLACEHOLDER, '');
  if (/[{}]/.test(literal)) problems.push('has an unmatched { or }');
  else if (!LITERAL.test(literal)) problems.push('may contain only letters, digits and hyphens outside its placeholders');
  return problems;
}

export const namePatternSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(200, { error: 'must be at most 200 characters' })
  .superRefine((pattern, ctx) => {
    for (const message of namePatternProblems(pattern)) ctx.addIssue({ code: 'custom', message });
  });

/**
 * One node's LUN name from a well-formed pattern: the placeholders filled in, then held to
 * the LUN name rule (and lower-cased like every LUN name). Returns why not when the result
 * is no valid name, or the pattern needs a hostname the node does not have.
 */
export function expandNamePattern(pattern: string, values: NamePatternValues): { name: string } | { problem: string } {
  if (values.hostname === null && pattern.includes('{hostname}')) return { problem: 'the node has no hostname, which the pattern\'s {hostname} needs' };
  const raw = pattern.replace(PLACEHOLDER, (_, key: NamePatternPlaceholder) => String(key === 'index' ? values.index : key === 'node_id' ? values.node_id : values.hostname));
  const parsed = lunNameSchema.safeParse(raw);
  if (!parsed.success) return { problem: `gives "${raw}", which is no valid LUN name: it ${parsed.error.issues[0]!.message}` };
  return { name: parsed.data };
}
