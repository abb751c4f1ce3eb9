import type { OperationKind } from '@bootlun/contracts';
import type { RetryPolicy } from './domain/retry-policy';
import type { AuditLog, OperationDispatcher, Repositories, SecretBox } from './ports';

/** Everything the API-side use cases need, injected by the app that runs them. */
export interface CoreDeps {
  repos: Repositories;
  dispatcher: OperationDispatcher;
  secrets: SecretBox;
  audit: AuditLog;
  retry: Record<OperationKind, RetryPolicy>;
  settings: {
    nodeIqnPrefix: string;
    backendOfflineAfterMs: number;
  };
}
