export { createPrismaClient } from './client';
// Models, enums and the Prisma namespace, so consumers never import the generated path.
export * from './generated/client';
// The migration runner (production start-up, /readyz) and scratch databases (tests, tools).
export * from './migrate';
// Repositories implementing the core's ports.
export { createRepositories, mapPrismaError } from './repositories';
