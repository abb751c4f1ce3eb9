import { z } from 'zod';

/** One LV as `lvs --options lv_name,vg_name,lv_size,segtype,pool_lv,data_percent,lv_active` reports it. */
export interface ThinReportRow {
  volumeGroup: string;
  volumeName: string;
  sizeBytes: number;
  /** `thin`, `thin-pool`, `linear`, ... */
  segtype: string;
  /** The pool of a thin LV; null for any other LV. */
  pool: string | null;
  /** A pool's data usage in percent (LVM prints two decimals); null for other LVs. */
  dataPercent: number | null;
  active: boolean;
}

const row = z.object({
  lv_name: z.string().min(1),
  vg_name: z.string().min(1),
  lv_size: z.string().regex(/^\d+B?$/),
  segtype: z.string(),
  pool_lv: z.string().optional().default(''),
  data_percent: z.string().optional().default(''),
  lv_active: z.string().optional().default(''),
});
const report = z.object({ report: z.array(z.object({ lv: z.array(row).optional() })) });

/** Parses that report. Tolerates text before the JSON (some LVM builds print warnings on stdout). */
export function parseLvsThinJson(stdout: string): ThinReportRow[] {
  const start = stdout.indexOf('{');
  if (start < 0) throw new Error('lvs printed no JSON report');
  const parsed = report.safeParse(JSON.parse(stdout.slice(start)));
  if (!parsed.success) throw new Error(`unexpected lvs JSON: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data.report.flatMap((section) =>
    (section.lv ?? []).map((r) => {
      const percent = r.data_percent.trim() === '' ? null : Number(r.data_percent);
      if (percent !== null && !(percent >= 0 && percent <= 100)) throw new Error(`lvs reports data_percent ${JSON.stringify(r.data_percent)} for ${r.vg_name}/${r.lv_name}`);
      return {
        volumeGroup: r.vg_name,
        volumeName: r.lv_name,
        sizeBytes: Number(r.lv_size.replace(/B$/, '')),
        segtype: r.segtype,
        pool: r.pool_lv === '' ? null : r.pool_lv.replace(/^\[|\]$/g, ''),
        dataPercent: percent,
        active: r.lv_active === 'active',
      };
    }),
  );
}
