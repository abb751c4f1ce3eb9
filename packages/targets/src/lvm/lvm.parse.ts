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
  // A thin pool says so when its data or metadata passed the threshold new thin LVs need.
  if (/insufficient (free )?(space|extents)|not enough free|free space in thin pool|thin pool [^\n]* is full/i.test(stderr)) return 'vg-full';
  if (/already exists in volume group|Logical Volume "[^"]*" already exists/i.test(stderr)) return 'lv-exists';
  if (/Failed to find logical volume|logical volume[^\n]* not found|Pool [^\n]* not found in Volume group/i.test(stderr)) return 'lv-missing';
  if (/in use|is open|contains a filesystem in use/i.test(stderr)) return 'lv-in-use';
  return 'unknown';
}

/** A volume group's size and free space as `vgs --noheadings --units b --nosuffix -o vg_size,vg_free` reports it. */
export interface VolumeGroupSpace {
  sizeBytes: number;
  freeBytes: number;
}

// With `--units b` a size is digits, followed by `B` unless `--nosuffix`.
const VGS_ROW = /^\s*(\d+)B?\s+(\d+)B?\s*$/;

/** Parses the one report line of one VG; other lines (warnings) are ignored. */
export function parseVgs(stdout: string): VolumeGroupSpace {
  const rows = stdout.split('\n').map((line) => VGS_ROW.exec(line)).filter((m): m is RegExpExecArray => m !== null);
  if (rows.length !== 1) throw new Error(`expected one vgs row of size and free bytes, got ${rows.length}: ${JSON.stringify(stdout.slice(0, 200))}`);
  const sizeBytes = Number(rows[0]![1]);
  const freeBytes = Number(rows[0]![2]);
  if (freeBytes > sizeBytes) throw new Error(`vgs reports more free (${freeBytes}) than size (${sizeBytes})`);
  return { sizeBytes, freeBytes };
}
