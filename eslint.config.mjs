// Lint, and keep the dependency graph honest: apps never import each other, use cases
// never import express/prisma/bullmq/child_process or the drivers, drivers never import the
// database. The target driver contract is a core port: drivers import @bootlun/core to
// implement it, so core must never import @bootlun/targets (that would be a cycle).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (patterns, message) => ({ 'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group: [group], message })) }] });

export default tseslint.config(
  { ignores: ['node_modules/', 'packages/db/src/generated/', 'coverage/', '**/*.js', '!eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['packages/core/src/**/*.ts'],
    rules: restrict(['express', 'express/*', '@prisma/*', 'bullmq', 'ioredis', 'pg', 'node:child_process', 'child_process', '@bootlun/db', '@bootlun/jobs', '@bootlun/exec', '@bootlun/runtime', '@bootlun/targets', '@bootlun/targets/*', '**/targets/src/**'], 'use cases depend on ports, not on libraries or drivers'),
  },
  {
    files: ['packages/targets/src/**/*.ts'],
    rules: restrict(['@bootlun/db', '@bootlun/jobs', '@bootlun/runtime', 'express', '@prisma/*', 'bullmq'], 'drivers implement the core port and know nothing of the database, queue or HTTP'),
  },
  {
    files: ['packages/exec/src/**/*.ts', 'packages/contracts/src/**/*.ts'],
    rules: restrict(['@bootlun/db', '@bootlun/jobs', '@bootlun/core', '@bootlun/runtime', 'express', '@prisma/*', 'bullmq'], 'the command runner and the contracts know nothing of the core, database, queue or HTTP'),
  },
  {
    files: ['apps/api/src/**/*.ts'],
    rules: restrict(['**/apps/worker/**', '@bootlun/worker'], 'apps never import each other'),
  },
  {
    files: ['apps/worker/src/**/*.ts'],
    rules: restrict(['**/apps/api/**', '@bootlun/api', 'express'], 'apps never import each other'),
  },
);
