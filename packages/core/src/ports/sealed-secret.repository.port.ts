import type { SealedSecret } from '../domain/model';

/** The two sealed columns of a LUN: the initiator's CHAP secret and the target's (mutual CHAP). */
export type ChapSecretColumn = 'chap' | 'target_chap';

/** One sealed value as stored, with the row and column it belongs to. */
export interface StoredSecret {
  lunId: string;
  column: ChapSecretColumn;
  secret: SealedSecret;
}

/** Sealed secrets across all LUNs, for the start-up key check, readiness and the format migration. */
export interface SealedSecretRepository {
  /** How many sealed values each key id has (both columns). */
  countByKeyId(): Promise<Array<{ keyId: string; count: number }>>;
  /** Up to `limit` sealed values under `keyId`. */
  sample(keyId: string, limit: number): Promise<StoredSecret[]>;
  /**
   * Sealed values of the next (at most) `limit` LUNs after `afterLunId`, in id order: one
   * page of a full scan. `lastLunId` continues the scan; null when this was the last page.
   */
  listPage(afterLunId: string | null, limit: number): Promise<{ secrets: StoredSecret[]; lastLunId: string | null }>;
  /**
   * Replaces one value only while its column still holds `expected`: false when another
   * process (a replica doing the same, or a CHAP change) wrote it first.
   */
  replace(lunId: string, column: ChapSecretColumn, expected: SealedSecret, next: SealedSecret): Promise<boolean>;
}
