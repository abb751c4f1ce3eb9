import { PermanentTargetError, type BackingCloner, type CloneHooks, type CloneRequest, type CloneResult } from '@bootlun/core';
import type { CommandRunner } from '@bootlun/exec';
import { createThinSnapshot, growThinVolume } from './lvm.thin';

/**
 * Clones LUNs of a thin-pool backend: the clone's LV is a writable thin snapshot of the
 * source's, made in constant time whatever the data (the pool shares every block until
 * one side writes), active at once and at every boot. Independent from the start: writes
 * to either side never show in the other, and the source LV may be removed (thin
 * snapshots hold no reference to their origin). A clone that exists already (a retry) is
 * kept and only grown.
 */
export class LvmThinCloner implements BackingCloner {
  constructor(private readonly options: { runner: CommandRunner; thinPool: string }) {}

  async clone(request: CloneRequest, hooks: CloneHooks): Promise<CloneResult> {
    const { source, target, sizeBytes } = request;
    if (source.kind !== 'block' || target.kind !== 'block') throw new PermanentTargetError('a thin-pool backend clones LVM volumes only');
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) throw new Error(`invalid clone size ${sizeBytes}`);
    const { runner, thinPool } = this.options;
    await hooks.checkpoint();
    // The API never asks for a clone smaller than its source; a larger one is grown here.
    const made = await createThinSnapshot(runner, source, target, thinPool, { writable: true });
    await growThinVolume(runner, target, sizeBytes);
    return { method: made.created ? 'thin' : 'done', sourceBytes: made.sizeBytes };
  }
}
