import type { StorageVm } from '../../test/vm/storage-vm';
import type { BenchApiClient } from '../support/api-client';
import { since } from '../support/timing';

/**
 * Our side of the LIO bench: the production API on the host, the production worker in
 * the storage host, driven only through HTTP as an operator would. The clock runs from
 * sending a POST until a GET of the LUN shows the status the job ends in.
 */

const SAVECONFIG = '/etc/rtslib-fb-target/saveconfig.json';
const POLL_MS = 20;
const JOB_TIMEOUT_MS = 240_000;

export interface Lun {
  id: string;
  operation_id?: string;
  name: string;
  iqn: string;
  status: string;
  chap_username: string | null;
  error_message: string | null;
}

export interface Node {
  id: string;
  initiator_iqn: string;
}


const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface OurRun {
  lun: Lun;
  /** POST create → GET shows ready. */
  createMs: number;
  /** POST assign → GET shows active. */
  assignMs: number;
  /** POST create → the ACL with its CHAP user is in the host's saved configuration (the worker saves shortly after its jobs). */
  savedMs: number;
  operationIds: { create: string; assign: string };
}

export interface OurBulkRun {
  luns: Lun[];
  /** First create POST → every LUN ready. */
  createMs: number;
  /** First assign POST → every LUN active. */
  assignMs: number;
  /** First create POST → every ACL in the saved configuration. */
  savedMs: number;
  operationIds: { create: string[]; assign: string[] };
}

export class OurSide {
  constructor(
    private readonly api: BenchApiClient,
    private readonly vm: StorageVm,
  ) {}

  async newNode(mac: string, hostname: string): Promise<Node> {
    return this.api.expect<Node>(201, 'POST', '/api/v1/nodes', { mac_address: mac, hostname });
  }

  /** Polls GET /storage/luns/:id every 20 ms until it shows `status`; an `error` status fails the bench. */
  private async until(id: string, status: string): Promise<Lun> {
    const t0 = process.hrtime.bigint();
    for (;;) {
      const r = await this.api.request<Lun>('GET', `/api/v1/storage/luns/${id}`);
      if (r.status === 200 && r.data.status === status) return r.data;
      if (r.status === 200 && r.data.status === 'error') throw new Error(`LUN ${r.data.name} went to error: ${r.data.error_message}`);
      if (since(t0) > JOB_TIMEOUT_MS) throw new Error(`LUN ${id} not ${status} after ${JOB_TIMEOUT_MS} ms (last: ${r.status} ${JSON.stringify(r.data)})`);
      await pause(POLL_MS);
    }
  }

  async createAndAssign(backendId: string, node: Node, name: string): Promise<OurRun> {
    const t0 = process.hrtime.bigint();
    const created = await this.api.expect<Lun>(202, 'POST', '/api/v1/storage/luns', { name, size_gb: 1, target_id: backendId, purpose: 'boot_from_san', chap_enabled: true });
    await this.until(created.id, 'ready');
    const createMs = since(t0);
    const t1 = process.hrtime.bigint();
    const assigned = await this.api.expect<Lun>(202, 'POST', `/api/v1/storage/luns/${created.id}/assign`, { node_id: node.id });
    const lun = await this.until(created.id, 'active');
    const assignMs = since(t1);
    await this.waitSaved('present', lun.chap_username!);
    return { lun, createMs, assignMs, savedMs: since(t0), operationIds: { create: created.operation_id!, assign: assigned.operation_id! } };
  }

  /** Unassign, delete, and wait until the host's saved configuration no longer has the target, so the next measurement starts from a quiet host. */
  async remove(lun: Lun): Promise<void> {
    await this.api.expect(202, 'POST', `/api/v1/storage/luns/${lun.id}/unassign`);
    await this.until(lun.id, 'ready');
    await this.api.expect(202, 'DELETE', `/api/v1/storage/luns/${lun.id}`);
    const t0 = process.hrtime.bigint();
    for (;;) {
      const r = await this.api.request<Lun>('GET', `/api/v1/storage/luns/${lun.id}`);
      if (r.status === 404) break;
      if (r.status === 200 && r.data.status === 'error') throw new Error(`deleting LUN ${lun.name} failed: ${r.data.error_message}`);
      if (since(t0) > JOB_TIMEOUT_MS) throw new Error(`LUN ${lun.name} still there ${JOB_TIMEOUT_MS} ms after its delete`);
      await pause(100);
    }
    await this.waitSaved('absent', lun.iqn);
  }

  /**
   * POST every create, wait until all are ready, POST every assign, wait until all are
   * active (the worker runs one job at a time), then until the saved configuration has
   * every ACL. Progress is read from the list's `total` for the backend and status.
   */
  async bulk(backendId: string, nodes: readonly Node[], names: readonly string[], initiatorNeedle: string, progress: (line: string) => void): Promise<OurBulkRun> {
    const count = names.length;
    // Generous: the bench reports slowness, it only fails on things that do not work.
    const timeoutMs = Math.max(JOB_TIMEOUT_MS, count * 30_000);
    const t0 = process.hrtime.bigint();
    const luns: Lun[] = [];
    for (const name of names) luns.push(await this.api.expect<Lun>(202, 'POST', '/api/v1/storage/luns', { name, size_gb: 1, target_id: backendId, purpose: 'boot_from_san', chap_enabled: true }));
    await this.untilAll(backendId, 'ready', count, timeoutMs, progress);
    const createMs = since(t0);
    const t1 = process.hrtime.bigint();
    const assigned: Lun[] = [];
    for (const [i, lun] of luns.entries()) assigned.push(await this.api.expect<Lun>(202, 'POST', `/api/v1/storage/luns/${lun.id}/assign`, { node_id: nodes[i]!.id }));
    await this.untilAll(backendId, 'active', count, timeoutMs, progress);
    const assignMs = since(t1);
    await this.waitSavedCount(initiatorNeedle, count, timeoutMs);
    return { luns, createMs, assignMs, savedMs: since(t0), operationIds: { create: luns.map((l) => l.operation_id!), assign: assigned.map((l) => l.operation_id!) } };
  }

  private async untilAll(backendId: string, status: string, count: number, timeoutMs: number, progress: (line: string) => void): Promise<void> {
    const t0 = process.hrtime.bigint();
    let reported = 0;
    const total = async (s: string) => (await this.api.request('GET', `/api/v1/storage/luns?backend_id=${backendId}&status=${s}&limit=1`)).total ?? 0;
    for (;;) {
      const done = await total(status);
      if (done >= count) return;
      const failed = await total('error');
      if (failed > 0) throw new Error(`${failed} LUNs of the bulk run went to error`);
      if (since(t0) > timeoutMs) throw new Error(`bulk: only ${done} of ${count} LUNs ${status} after ${timeoutMs} ms`);
      if (since(t0) - reported > 30_000) {
        reported = since(t0);
        progress(`ours bulk: ${done}/${count} ${status} after ${Math.round(reported / 1000)} s`);
      }
      await pause(100);
    }
  }

  /** Waits inside the guest (one process polling the file every 50 ms) until `needle` is in the saved configuration, or gone from it. */
  private async waitSaved(want: 'present' | 'absent', needle: string): Promise<void> {
    const script = [
      'i=0',
      'while :; do',
      '  if grep -q -F -- "$2" "$1"; then have=present; else have=absent; fi',
      '  [ "$have" = "$3" ] && exit 0',
      '  i=$((i+1)); [ $i -lt 2400 ] || exit 1',
      '  sleep 0.05',
      'done',
    ].join('\n');
    const r = await this.vm.exec(['sh', '-c', script, 'sh', SAVECONFIG, needle, want], '', JOB_TIMEOUT_MS);
    if (r.code !== 0) throw new Error(`${needle} not ${want} in ${SAVECONFIG} after 2 minutes`);
  }

  private async waitSavedCount(needle: string, count: number, timeoutMs: number): Promise<void> {
    const script = 'end=$(($(date +%s) + $4)); until [ "$(grep -c -F -- "$2" "$1")" -ge "$3" ]; do [ "$(date +%s)" -lt "$end" ] || exit 1; sleep 0.1; done';
    const seconds = Math.ceil(timeoutMs / 1000);
    const r = await this.vm.exec(['sh', '-c', script, 'sh', SAVECONFIG, needle, String(count), String(seconds)], '', timeoutMs + 30_000);
    if (r.code !== 0) throw new Error(`fewer than ${count} ACLs of the bulk run in ${SAVECONFIG} after ${seconds} s`);
  }
}
