import { migrationSlug, migrationTimestamp } from './new-migration';

describe('migration folder names', () => {
  it('slugifies like the Prisma CLI', () => {
    expect(migrationSlug('init')).toBe('init');
    expect(migrationSlug('Add LUN notes')).toBe('add_lun_notes');
    expect(migrationSlug('addChapToLuns!')).toBe('add_chap_to_luns');
    expect(migrationSlug('x'.repeat(300))).toHaveLength(200);
  });

  it('prefixes a UTC yyyymmddHHMMSS timestamp', () => {
    expect(migrationTimestamp(new Date('2024-03-05T07:08:09.123Z'))).toBe('20240305070809');
  });
});
