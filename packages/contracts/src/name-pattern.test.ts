import { bulkCreateLunsBody, MAX_BULK_NODES } from './lun-bulk.schema';
import { expandNamePattern, namePatternProblems, namePatternSchema } from './name-pattern';

const NODE = '8d3c6f0e-3f7e-4c55-9b7e-2d3c1f6a9b10';
const values = { hostname: 'Web01', node_id: NODE, index: 7 };

describe('name patterns', () => {
  it('fills every placeholder, lower-cased like every LUN name', () => {
    expect(expandNamePattern('{hostname}-boot', values)).toEqual({ name: 'web01-boot' });
    expect(expandNamePattern('boot-{index}', values)).toEqual({ name: 'boot-7' });
    expect(expandNamePattern('n-{node_id}', values)).toEqual({ name: `n-${NODE}` });
    expect(expandNamePattern('{hostname}-{index}-{hostname}', values)).toEqual({ name: 'web01-7-web01' });
  });

  it('needs at least one placeholder, and knows only its own', () => {
    expect(namePatternProblems('boot')).toEqual([expect.stringMatching(/at least one of \{hostname\}, \{node_id\}, \{index\}/)]);
    expect(namePatternProblems('{host}-boot')).toEqual([expect.stringMatching(/\{host\} is not a placeholder/), expect.stringMatching(/at least one/)]);
    expect(namePatternProblems('{hostname}-{Index}')).toEqual([expect.stringMatching(/\{Index\} is not a placeholder/)]);
    expect(namePatternProblems('{hostname}-boot')).toEqual([]);
  });

  it('refuses text a LUN name cannot hold, and unmatched braces', () => {
    expect(namePatternProblems('{hostname}.boot')).toEqual([expect.stringMatching(/only letters, digits and hyphens/)]);
    expect(namePatternProblems('{hostname}_boot')).toEqual([expect.stringMatching(/only letters, digits and hyphens/)]);
    expect(namePatternProblems('{hostname}-{index')).toEqual([expect.stringMatching(/unmatched/)]);
    expect(namePatternProblems('{hostname}}')).toEqual([expect.stringMatching(/unmatched/)]);
  });

  it('says why a node gives no valid name', () => {
    expect(expandNamePattern('{hostname}-boot', { ...values, hostname: null })).toEqual({ problem: expect.stringMatching(/no hostname/) });
    expect(expandNamePattern('{hostname}-boot', { ...values, hostname: 'web01.example.com' })).toEqual({ problem: expect.stringMatching(/"web01.example.com-boot", which is no valid LUN name/) });
    expect(expandNamePattern('-{index}', values)).toEqual({ problem: expect.stringMatching(/must not start or end with a hyphen/) });
    expect(expandNamePattern(`{node_id}-{node_id}`, values)).toEqual({ problem: expect.stringMatching(/at most 63/) });
    // A pattern without {hostname} does not need one.
    expect(expandNamePattern('boot-{index}', { ...values, hostname: null })).toEqual({ name: 'boot-7' });
  });

  it('is a schema that names its problems', () => {
    expect(namePatternSchema.safeParse('{hostname}-boot').success).toBe(true);
    expect(namePatternSchema.safeParse('').error?.issues.map((i) => i.message)).toEqual([expect.stringMatching(/must not be empty/), expect.stringMatching(/at least one/)]);
  });
});

describe('bulkCreateLunsBody', () => {
  const body = { source: { lun_id: NODE }, node_ids: [NODE], name_pattern: '{hostname}-boot' };
  const paths = (b: unknown) => bulkCreateLunsBody.safeParse(b).error?.issues.map((i) => i.path.join('.')) ?? [];

  it('defaults to boot LUNs with CHAP on', () => {
    expect(bulkCreateLunsBody.parse(body)).toEqual({ ...body, purpose: 'boot_from_san', chap_enabled: true, mutual_chap_enabled: false });
  });

  it('names the field of a repeated node, a bad pattern, and a batch over the limit', () => {
    const other = '0b6f2f5e-9d1c-4f0e-8a51-3c2b7d4e6f10';
    expect(paths({ ...body, node_ids: [NODE, other, NODE] })).toEqual(['node_ids.2']);
    expect(paths({ ...body, name_pattern: 'boot' })).toEqual(['name_pattern']);
    expect(paths({ ...body, node_ids: [] })).toEqual(['node_ids']);
    const tooMany = Array.from({ length: MAX_BULK_NODES + 1 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    expect(bulkCreateLunsBody.safeParse({ ...body, node_ids: tooMany }).error?.issues).toEqual([expect.objectContaining({ path: ['node_ids'], message: expect.stringMatching(/at most 500 nodes/) })]);
    expect(paths({ ...body, source: { snapshot_id: NODE } })).toEqual(['source.lun_id', 'source']);
  });
});
