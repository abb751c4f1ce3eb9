import { z } from 'zod';
import type { LioState } from './lio.state';

/** Parses the JSON printed by rtslib-dump.py into LioState (snake_case → our names). */

const DUMP_FORMAT = 'bootlun-rtslib-dump/1';

const soRef = z.object({ plugin: z.string(), name: z.string() });
const hexDigest = z.string().regex(/^[0-9a-f]{64}$/).nullable();

const dumpSchema = z.object({
  format: z.literal(DUMP_FORMAT),
  targets: z.array(
    z.object({
      wwn: z.string().min(1),
      tpgs: z.array(
        z.object({
          tag: z.number().int(),
          enable: z.boolean(),
          attributes: z.record(z.string(), z.string()),
          portals: z.array(z.object({ ip_address: z.string(), port: z.number().int() })),
          luns: z.array(z.object({ index: z.number().int(), storage_object: soRef.nullable() })),
          node_acls: z.array(
            z.object({
              node_wwn: z.string().min(1),
              mapped_luns: z.array(
                z.object({ index: z.number().int(), tpg_lun: z.number().int().nullable(), write_protect: z.boolean() }),
              ),
              chap_userid: z.string().nullable(),
              chap_password_digest: hexDigest,
              chap_mutual_userid: z.string().nullable(),
              chap_mutual_password_digest: hexDigest,
            }),
          ),
        }),
      ),
    }),
  ),
  storage_objects: z
    .array(z.object({ plugin: z.string(), name: z.string(), udev_path: z.string().nullable(), size: z.number().int().nullable() }))
    .optional(),
  saved: z.object({ path: z.string(), targets: z.array(z.string()).nullable() }).optional(),
});

export function parseRtslibDump(stdout: string): LioState {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new Error(`rtslib dump is not JSON: ${stdout.slice(0, 120)}`);
  }
  const parsed = dumpSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`unexpected rtslib dump at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}`);
  }
  const dump = parsed.data;
  const state: LioState = {
    targets: dump.targets.map((t) => ({
      iqn: t.wwn,
      tpgs: t.tpgs.map((tpg) => ({
        tag: tpg.tag,
        enabled: tpg.enable,
        attributes: tpg.attributes,
        portals: tpg.portals.map((p) => ({ ip: p.ip_address, port: p.port })),
        luns: tpg.luns.map((l) => ({ index: l.index, storageObject: l.storage_object })),
        acls: tpg.node_acls.map((a) => ({
          initiator: a.node_wwn,
          mappedLuns: a.mapped_luns.map((m) => ({ index: m.index, tpgLun: m.tpg_lun, writeProtect: m.write_protect })),
          chapUserid: a.chap_userid,
          chapPasswordDigest: a.chap_password_digest,
          chapMutualUserid: a.chap_mutual_userid,
          chapMutualPasswordDigest: a.chap_mutual_password_digest,
        })),
      })),
    })),
  };
  if (dump.storage_objects) {
    state.storageObjects = dump.storage_objects.map((so) => ({
      plugin: so.plugin,
      name: so.name,
      udevPath: so.udev_path,
      sizeBytes: so.size,
    }));
  }
  if (dump.saved) state.savedTargets = dump.saved.targets;
  return state;
}
