import { z } from 'zod';

/** One logical volume as `lvs --reportformat json --units b --nosuffix` reports it. */
export interface LogicalVolume {
  volumeGroup: string;
  volumeName: string;
  sizeBytes: number;
  path: string;
}

// LVM prints every field as a string; with `--units b --nosuffix` a size is plain digits.
const lvRow = z.object({
  lv_name: z.string().min(1),
  vg_name: z.string().min(1),
  lv_size: z.string().regex(/^\d+B?$/),
  lv_path: z.string().optional(),
});
const lvsReport = z.object({
  report: z.array(z.object({ lv: z.array(lvRow).optional() })),
});

/** Parses `lvs` JSON. Tolerates text before the JSON (some LVM builds print warnings on stdout). */
export function parseLvsJson(stdout: string): LogicalVolume[] {
  const start = stdout.indexOf('{');
  if (start < 0) throw new Error('lvs printed no JSON report');
  const parsed = lvsReport.safeParse(JSON.parse(stdout.slice(start)));
  if (!parsed.success) throw new Error(`unexpected lvs JSON: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data.report.flatMap((section) =>
    (section.lv ?? []).map((row) => ({
      volumeGroup: row.vg_name,
      volumeName: row.lv_name,
      sizeBytes: Number(row.lv_size.replace(/B$/, '')),
      path: row.lv_path || `/dev/${row.vg_name}/${row.lv_name}`,
    })),
  );
}

/** What an LVM error message means for the caller. */
export type LvmFailure =
  | 'vg-missing'
  | 'vg-full'
  | 'lv-exists'
  | 'lv-missing'
  | 'lv-in-use'
  | 'unknown';

/** Classifies LVM's stderr (LVM does not localise its messages). */
export function classifyLvmError(stderr: string): LvmFailure {
  if (/Volume group "[^"]*" not found|Cannot process volume group/i.test(stderr)) return 'vg-missing';
  if (/insufficient (free )?(space|extents)|not enough free/i.test(stderr)) return 'vg-full';
  if (/already exists in volume group|Logical Volume "[^"]*" already exists/i.test(stderr)) return 'lv-exists';
  if (/Failed to find logical volume|logical volume[^\n]* not found/i.test(stderr)) return 'lv-missing';
  if (/in use|is open|contains a filesystem in use/i.test(stderr)) return 'lv-in-use';
  return 'unknown';
}
