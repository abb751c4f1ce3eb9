import { normalizeMac, type BackendConfig } from '@bootlun/contracts';
import type { CoreDeps } from '../deps';
import { DEFAULT_BOOT_RETRY, renderExitScript, renderSanbootScript, type BootRetry, type IpxeChap } from '../domain/ipxe-script';
import type { BootNode, LunView } from '../domain/model';
import { ValidationError } from '../errors';
import { openChapSecret } from './sealed-secrets.use-cases';

export type BootScriptDeps = Pick<CoreDeps, 'repos' | 'secrets' | 'audit'>;

export interface BootScriptRequest {
  /** The MAC as the firmware sent it (colons, dashes, dots, any case). */
  mac: string;
  /** Where the request came from: the audit event's source, and checked against the node's address. */
  source?: string;
  /** Serve a node with a known address only to that address (BOOT_BIND_NODE_ADDRESS). */
  bindNodeAddress?: boolean;
  retry?: BootRetry;
}

export type BootScript =
  | { kind: 'sanboot'; script: string; node: BootNode; lun: LunView }
  /**
   * Nothing to boot from, or no node with this MAC (`node` null): the script exits and the
   * firmware falls through. `reason` is for the log only; the script is the same either way.
   */
  | { kind: 'fall_through'; script: string; mac: string; node: BootNode | null; reason: string };

const nodeLabel = (node: BootNode) => (node.hostname ? `${node.hostname} (${node.macAddress})` : node.macAddress);

/** Why a node's boot LUNs cannot be booted right now, for the fall-through script. */
function whyNotBootable(candidates: LunView[]): string {
  if (candidates.length === 0) return 'has no boot_from_san LUN assigned';
  return `has no active boot_from_san LUN yet (${candidates.map((l) => `LUN ${l.name} is ${l.status}`).join(', ')})`;
}

/** The portal initiators are told to use: the advertised address and port where set, else where the target listens. */
export function advertisedPortal(config: BackendConfig): { portalIp: string; portalPort: number } {
  return { portalIp: config.advertised_portal_ip ?? config.portal_ip, portalPort: config.advertised_portal_port ?? config.portal_port };
}

/**
 * The script for "nothing to boot here". It depends on the MAC alone, never on whether a
 * node with that MAC exists or why it cannot boot: the endpoint needs no key, so a reply
 * that differed would tell anyone which MACs are registered (and their hostnames).
 */
export function fallThroughScript(mac: string): string {
  return renderExitScript(`no SAN boot for ${mac}; falling through to the next boot device`);
}

/**
 * The iPXE script a node's firmware fetches, keyed by its MAC. It reveals only this
 * node's own LUN and CHAP secret; every served secret is audited (without the secret).
 */
export async function bootScriptFor(deps: BootScriptDeps, request: BootScriptRequest): Promise<BootScript> {
  const mac = normalizeMac(request.mac);
  if (!mac) throw new ValidationError('mac must be a MAC address like aa:bb:cc:dd:ee:ff', [{ field: 'mac', message: 'must be a MAC address like aa:bb:cc:dd:ee:ff' }]);
  const node = await deps.repos.nodes.getByMac(mac);
  if (!node) return { kind: 'fall_through', mac, node: null, reason: 'no node has this MAC', script: fallThroughScript(mac) };

  const assigned = await deps.repos.luns.list({ assignedNodeId: node.id, purpose: 'boot_from_san' }, { limit: 20, offset: 0 });
  const lun = assigned.items.find((l) => l.status === 'active');
  const fallThrough = (reason: string): BootScript => ({ kind: 'fall_through', mac, node, reason: `node ${nodeLabel(node)} ${reason}`, script: fallThroughScript(mac) });
  // Someone who knows the MAC but asks from elsewhere gets what an unknown MAC gets.
  if (request.bindNodeAddress !== false && node.ipAddress && request.source !== node.ipAddress) {
    return fallThrough(`boots from ${node.ipAddress}, but the request came from ${request.source ?? 'an unknown address'}`);
  }
  if (!lun) return fallThrough(whyNotBootable(assigned.items));
  if (lun.lunNumber === null) return fallThrough(`has LUN ${lun.name} whose LUN number the storage host has not reported yet`);
  const backend = await deps.repos.backends.getRef(lun.backendId);
  if (!backend) return fallThrough(`has LUN ${lun.name} on a storage backend that no longer exists`);

  const chap: IpxeChap | null =
    lun.chapEnabled && lun.chapUsername && lun.chapSecret ? { username: lun.chapUsername, secret: openChapSecret(deps.secrets, lun, 'chap', lun.chapSecret) } : null;
  const mutualChap: IpxeChap | null =
    chap && lun.mutualChapEnabled && lun.targetChapUsername && lun.targetChapSecret
      ? { username: lun.targetChapUsername, secret: openChapSecret(deps.secrets, lun, 'target_chap', lun.targetChapSecret) }
      : null;

  const script = renderSanbootScript({
    nodeLabel: nodeLabel(node),
    lunName: lun.name,
    initiatorIqn: node.initiatorIqn,
    target: { ...advertisedPortal(backend.config), lunNumber: lun.lunNumber, iqn: lun.iqn },
    chap,
    mutualChap,
    retry: request.retry ?? DEFAULT_BOOT_RETRY,
  });
  if (chap) {
    deps.audit.record('boot.script.secret_served', {
      nodeId: node.id,
      mac: node.macAddress,
      lunId: lun.id,
      lunName: lun.name,
      chapUsername: chap.username,
      mutualChapUsername: mutualChap?.username ?? null,
      source: request.source ?? null,
    });
  }
  return { kind: 'sanboot', script, node, lun };
}
