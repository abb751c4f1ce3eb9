/** Records security-relevant events (credential reveals, key changes). Never given secrets. */
export interface AuditLog {
  record(event: string, fields: Record<string, unknown>): void;
}
