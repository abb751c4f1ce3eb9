import { z } from 'zod';
import { paginationQuery, uuidSchema } from './common.schema';

export const OPERATION_KINDS = ['create', 'delete', 'assign', 'unassign', 'update', 'resize', 'reconcile', 'import', 'snapshot_create', 'snapshot_delete', 'rollback'] as const;
export const OPERATION_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

export const listOperationsQuery = paginationQuery.extend({
  lun_id: uuidSchema.optional(),
  backend_id: uuidSchema.optional(),
  status: z.enum(OPERATION_STATUSES).optional(),
  kind: z.enum(OPERATION_KINDS).optional(),
});
export type ListOperationsQuery = z.infer<typeof listOperationsQuery>;
