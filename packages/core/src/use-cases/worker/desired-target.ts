import type { Lun } from '../../domain/model';
import type { DesiredTarget } from '../../ports';
import { openChapSecret } from '../sealed-secrets.use-cases';
import type { WorkerDeps } from './worker-deps';

const GIB = 1024 ** 3;

/** Translates a LUN row (desired state) into what the driver should build; opens sealed secrets. */
export async function desiredTargetFor(deps: WorkerDeps, lun: Lun, options: { createBacking: boolean }): Promise<DesiredTarget> {
  const node = lun.assignedNodeId ? await deps.repos.nodes.get(lun.assignedNodeId) : null;
  const chap = lun.chapEnabled && lun.chapUsername && lun.chapSecret ? { username: lun.chapUsername, secret: openChapSecret(deps.secrets, lun, 'chap', lun.chapSecret) } : null;
  const mutualChap =
    chap && lun.mutualChapEnabled && lun.targetChapUsername && lun.targetChapSecret
      ? { username: lun.targetChapUsername, secret: openChapSecret(deps.secrets, lun, 'target_chap', lun.targetChapSecret) }
      : null;
  return {
    iqn: lun.iqn,
    sizeBytes: lun.sizeGb * GIB,
    backing: deps.backingFor(lun.id),
    createBacking: options.createBacking,
    initiators: node ? [node.initiatorIqn] : [],
    chap,
    mutualChap,
  };
}
