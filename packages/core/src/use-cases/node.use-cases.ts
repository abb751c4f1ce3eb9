import { initiatorIqnFor, type CreateNodeBody, type UpdateNodeBody } from '@bootlun/contracts';
import type { CoreDeps } from '../deps';
import type { BootNode } from '../domain/model';
import { ConflictError, NotFoundError } from '../errors';
import type { Page, PageRequest } from '../ports';

export async function getNode(deps: CoreDeps, id: string): Promise<BootNode> {
  const node = await deps.repos.nodes.get(id);
  if (!node) throw new NotFoundError('node', id);
  return node;
}

export async function listNodes(deps: CoreDeps, page: PageRequest): Promise<Page<BootNode>> {
  return deps.repos.nodes.list(page);
}

export async function createNode(deps: CoreDeps, input: CreateNodeBody): Promise<BootNode> {
  return deps.repos.nodes.create({
    macAddress: input.mac_address,
    hostname: input.hostname ?? null,
    initiatorIqn: input.initiator_iqn ?? initiatorIqnFor(deps.settings.nodeIqnPrefix, input.mac_address),
    ipAddress: input.ip_address ?? null,
  });
}

export async function updateNode(deps: CoreDeps, id: string, input: UpdateNodeBody): Promise<BootNode> {
  const node = await getNode(deps, id);
  const assigned = await deps.repos.luns.list({ assignedNodeId: id }, { limit: 1, offset: 0 });
  const macAddress = input.mac_address ?? node.macAddress;
  // A derived IQN follows the MAC; an explicit one (or null: back to derived) wins.
  const derivedBefore = initiatorIqnFor(deps.settings.nodeIqnPrefix, node.macAddress);
  const initiatorIqn =
    input.initiator_iqn ??
    (input.initiator_iqn === null || node.initiatorIqn === derivedBefore ? initiatorIqnFor(deps.settings.nodeIqnPrefix, macAddress) : node.initiatorIqn);
  if (initiatorIqn !== node.initiatorIqn && assigned.total > 0) {
    throw new ConflictError(`node ${node.macAddress} has assigned LUNs; unassign them before changing its initiator IQN`, [{ field: 'initiator_iqn', message: 'cannot change while LUNs are assigned' }]);
  }
  return deps.repos.nodes.update(id, {
    macAddress,
    hostname: input.hostname === undefined ? node.hostname : input.hostname,
    initiatorIqn,
    ipAddress: input.ip_address === undefined ? node.ipAddress : input.ip_address,
  });
}

export async function deleteNode(deps: CoreDeps, id: string): Promise<BootNode> {
  const node = await getNode(deps, id);
  const assigned = await deps.repos.luns.list({ assignedNodeId: id }, { limit: 1, offset: 0 });
  if (assigned.total > 0) throw new ConflictError(`node ${node.macAddress} has ${assigned.total} assigned LUNs; unassign them first`);
  await deps.repos.nodes.delete(id);
  return node;
}
