import { checksumOf, type MigrationFile } from './migration-files';
import { MigrationError } from './migration.error';
import { planMigrations } from './migration-plan';
import type { AppliedMigration } from './migrations-table';

const file = (name: string, sql = `-- ${name}\n`): MigrationFile => ({ name, sql, checksum: checksumOf(sql) });
const row = (migration: MigrationFile, overrides: Partial<AppliedMigration> = {}): AppliedMigration => ({
  id: `id-${migration.name}`,
  checksum: migration.checksum,
  migrationName: migration.name,
  logs: null,
  startedAt: new Date('2024-01-01T00:00:00Z'),
  finishedAt: new Date('2024-01-01T00:00:01Z'),
  rolledBackAt: null,
  appliedStepsCount: 1,
  ...overrides,
});

const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    return error instanceof MigrationError ? error.code : 'not a MigrationError';
  }
  return undefined;
};

describe('planMigrations', () => {
  const a = file('20240101000000_a');
  const b = file('20240102000000_b');

  it('keeps folder order and skips what is applied', () => {
    expect(planMigrations([a, b], [row(a)]).pending.map((m) => m.name)).toEqual([b.name]);
  });

  it('treats rolled-back rows as not applied', () => {
    expect(planMigrations([a], [row(a, { rolledBackAt: new Date(), finishedAt: null })]).pending).toEqual([a]);
  });

  it('refuses unfinished rows and edited scripts', () => {
    expect(codeOf(() => planMigrations([a], [row(a, { finishedAt: null })]))).toBe('failed_migration');
    expect(codeOf(() => planMigrations([a], [row(a, { checksum: checksumOf('other') })]))).toBe('checksum_mismatch');
  });

  it('tolerates CRLF/LF differences, as Prisma does', () => {
    const lf = file('20240101000000_a', 'SELECT 1;\nSELECT 2;\n');
    const crlf = { ...lf, sql: 'SELECT 1;\r\nSELECT 2;\r\n' };
    expect(planMigrations([crlf], [row(lf)]).pending).toEqual([]);
  });

  it('reports applied migrations missing from the folder without refusing', () => {
    expect(planMigrations([a], [row(a), row(b)]).unknown).toEqual([b.name]);
  });
});
