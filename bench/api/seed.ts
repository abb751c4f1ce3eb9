/**
 * Seeds a benchmark database at the scale the API must serve: 20 storage backends,
 * 1,000 nodes, 10,000 LUNs (with their create operations) and one admin key. The mix is
 * fixed (a function of the row number), so every run lists the same pages:
 *   status   75 % ready, 10 % active (each assigned to its own node), 5 % each creating, error, deleting
 *   purpose  80 % boot_from_san, 15 % install_source, 5 % auto_provision
 *   CHAP     60 % on (a sixth of those mutual), sealed with the bench key like the API seals
 * Rows get distinct created_at values a minute apart, so list order never depends on ties.
 *
 * As a script: `tsx bench/api/seed.ts <database url>` (the database must be migrated; the
 * sealing key comes from CHAP_SEALING_KEY, else one is made and printed).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { backendConfigSchema, initiatorIqnFor, targetIqn, type BackendConfig } from '@bootlun/contracts';
import { chapSecretContext, chapUsernameFor, createApiKey, generateChapSecret, type ApiKeyRepository } from '@bootlun/core';
import { AesGcmSecretBox } from '@bootlun/secrets';
import { Client } from 'pg';

export interface SeedScale {
  backends: number;
  nodes: number;
  luns: number;
}

export const DEFAULT_SCALE: SeedScale = { backends: 20, nodes: 1_000, luns: 10_000 };

export interface SeedResult {
  backendIds: string[];
  nodeIds: string[];
  /** In list order (created_at, id). */
  lunIds: string[];
  /** `Authorization: Bearer …` value of an admin key. */
  adminToken: string;
}

const EPOCH = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const BATCH = 2_000;

function lunShape(i: number, nodeCount: number) {
  const bucket = i % 20;
  const status = bucket === 0 ? 'creating' : bucket === 1 ? 'error' : bucket === 2 ? 'deleting' : i % 10 === 3 && Math.floor(i / 10) < nodeCount ? 'active' : 'ready';
  const purpose = bucket >= 5 && bucket <= 7 ? 'install_source' : bucket === 8 ? 'auto_provision' : 'boot_from_san';
  const chap = i % 5 < 3;
  return {
    status,
    purpose,
    chap,
    mutual: chap && i % 10 === 0,
    assignedNode: status === 'active' ? Math.floor(i / 10) : null,
    sizeGb: 10 + (i % 9) * 10,
    lunNumber: status === 'creating' ? null : 1,
    errorMessage: status === 'error' ? 'tgt: backing file /srv/luns/missing.img: no space left on device' : null,
    drift: i % 50 === 4 ? 'target missing on the host' : null,
    generation: 1 + (i % 3),
  };
}

/** A tiny adapter so the product's own key format and hashing make the admin key. */
function apiKeyRepo(client: Client): ApiKeyRepository {
  return {
    create: async (data) => {
      const { rows } = await client.query(
        'INSERT INTO api_keys (id, name, role, lookup_id, secret_hash) VALUES ($1, $2, $3, $4, $5) RETURNING id, name, role, created_at AS "createdAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"',
        [randomUUID(), data.name, data.role, data.lookupId, data.secretHash],
      );
      return rows[0];
    },
    findByLookupId: () => Promise.reject(new Error('not used by the seed')),
    list: () => Promise.reject(new Error('not used by the seed')),
    revoke: () => Promise.reject(new Error('not used by the seed')),
    touch: () => Promise.reject(new Error('not used by the seed')),
  } as ApiKeyRepository;
}

const at = (minutes: number) => new Date(EPOCH + minutes * MINUTE).toISOString();

export async function seedBenchDatabase(databaseUrl: string, sealing: { keyId: string; key: Buffer }, scale: SeedScale = DEFAULT_SCALE): Promise<SeedResult> {
  const box = new AesGcmSecretBox({ id: sealing.keyId, key: sealing.key });
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN');

    const backends: Array<{ id: string; config: BackendConfig }> = [];
    for (let b = 0; b < scale.backends; b++) {
      const nn = String(b + 1).padStart(2, '0');
      const config = backendConfigSchema.parse({
        driver: 'tgt',
        portal_ip: '127.0.0.1',
        portal_port: 3260,
        iqn_prefix: `iqn.2026-11.io.bootlun.bench${nn}`,
        backingstore_type: 'file',
        backingstore_path: `/srv/bootlun-bench/store${nn}`,
        tgt_control_port: 0,
      });
      const id = randomUUID();
      await client.query(
        `INSERT INTO storage_backends (id, name, type, status, config, created_at, updated_at) VALUES ($1, $2, 'iscsi', $3, $4, $5, $5)`,
        [id, `bench-store-${nn}`, b % 4 === 3 ? 'offline' : 'online', JSON.stringify(config), at(b)],
      );
      backends.push({ id, config });
    }

    const nodeIds: string[] = [];
    const nodeRows = { id: [] as string[], mac: [] as string[], hostname: [] as Array<string | null>, iqn: [] as string[], at: [] as string[] };
    for (let n = 0; n < scale.nodes; n++) {
      const mac = `52:54:00:${[(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
      const id = randomUUID();
      nodeIds.push(id);
      nodeRows.id.push(id);
      nodeRows.mac.push(mac);
      // A tenth without a hostname: the LUN list then shows the MAC as the node's name.
      nodeRows.hostname.push(n % 10 === 9 ? null : `node-${String(n + 1).padStart(4, '0')}`);
      nodeRows.iqn.push(initiatorIqnFor('iqn.2010-04.org.ipxe', mac));
      nodeRows.at.push(at(100 + n));
    }
    await client.query(
      `INSERT INTO nodes (id, mac_address, hostname, initiator_iqn, created_at, updated_at)
       SELECT * , t.created_at FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamp(3)[]) AS t(id, mac_address, hostname, initiator_iqn, created_at)`,
      [nodeRows.id, nodeRows.mac, nodeRows.hostname, nodeRows.iqn, nodeRows.at],
    );

    const lunIds: string[] = [];
    for (let start = 0; start < scale.luns; start += BATCH) {
      const cols = Array.from({ length: 19 }, () => [] as unknown[]);
      for (let i = start; i < Math.min(scale.luns, start + BATCH); i++) {
        const s = lunShape(i, scale.nodes);
        const backend = backends[i % backends.length]!;
        const id = randomUUID();
        const name = `lun-${String(i + 1).padStart(5, '0')}`;
        const chap = s.chap ? box.seal(generateChapSecret(), chapSecretContext(id, 'chap')) : null;
        const targetChap = s.mutual ? box.seal(generateChapSecret(), chapSecretContext(id, 'target_chap')) : null;
        const values = [
          id,
          name,
          s.sizeGb,
          backend.id,
          targetIqn(backend.config.iqn_prefix, name),
          s.lunNumber,
          s.purpose,
          s.status,
          s.errorMessage,
          s.assignedNode === null ? null : nodeIds[s.assignedNode]!,
          s.chap,
          s.chap ? chapUsernameFor(id, 'initiator') : null,
          chap?.sealed ?? null,
          chap?.keyId ?? null,
          s.mutual,
          s.mutual ? chapUsernameFor(id, 'target') : null,
          targetChap?.sealed ?? null,
          s.generation,
          s.drift,
        ];
        values.forEach((v, c) => cols[c]!.push(v));
        lunIds.push(id);
      }
      await client.query(
        `INSERT INTO iscsi_luns (id, name, size_gb, backend_id, iqn, lun_number, purpose, status, error_message, assigned_node_id, chap_enabled, chap_username,
                                 chap_secret_sealed, chap_secret_key_id, mutual_chap_enabled, target_chap_username, target_chap_secret_sealed, target_chap_secret_key_id,
                                 generation, drift, created_at, updated_at)
         SELECT t.id, t.name, t.size_gb, t.backend_id, t.iqn, t.lun_number, t.purpose::"LunPurpose", t.status::"LunStatus", t.error_message, t.assigned_node_id, t.chap_enabled,
                t.chap_username, t.chap_secret_sealed, t.chap_secret_key_id, t.mutual_chap_enabled, t.target_chap_username, t.target_chap_secret_sealed,
                CASE WHEN t.target_chap_secret_sealed IS NULL THEN NULL ELSE $20 END, t.generation, t.drift,
                $21::timestamp(3) + make_interval(mins => ($22::int + t.n)::int), $21::timestamp(3) + make_interval(mins => ($22::int + t.n)::int, secs => 30)
         FROM unnest($1::uuid[], $2::text[], $3::int[], $4::uuid[], $5::text[], $6::int[], $7::text[], $8::text[], $9::text[], $10::uuid[], $11::bool[], $12::text[],
                     $13::text[], $14::text[], $15::bool[], $16::text[], $17::text[], $18::int[], $19::text[])
              WITH ORDINALITY AS t(id, name, size_gb, backend_id, iqn, lun_number, purpose, status, error_message, assigned_node_id, chap_enabled, chap_username,
                                   chap_secret_sealed, chap_secret_key_id, mutual_chap_enabled, target_chap_username, target_chap_secret_sealed, generation, drift, n)`,
        [...cols, sealing.keyId, at(0), 2_000 + start],
      );
    }

    // One finished create operation per LUN, as a system that made them would hold.
    await client.query(
      `INSERT INTO operations (id, kind, status, backend_id, lun_id, lun_name, lun_generation, params, attempts, max_attempts, progress_percent, progress_step,
                               job_id, enqueued_at, created_at, started_at, finished_at, updated_at)
       SELECT l.op_id, 'create', 'succeeded', l.backend_id, l.id, l.name, 1, '{}', 1, 5, 100, 'done', l.op_id::text, l.created_at, l.created_at,
              l.created_at + interval '1 second', l.created_at + interval '2 seconds', l.created_at + interval '2 seconds'
       FROM (SELECT gen_random_uuid() AS op_id, id, name, backend_id, created_at FROM iscsi_luns) l`,
    );

    const { token } = await createApiKey(apiKeyRepo(client), { name: 'bench-admin', role: 'admin' });
    await client.query('COMMIT');
    // Planner statistics as a live database has them (autovacuum would get there later).
    await client.query('ANALYZE');
    return { backendIds: backends.map((b) => b.id), nodeIds, lunIds, adminToken: token };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}

if (require.main === module) {
  const url = process.argv[2];
  if (!url) {
    process.stderr.write('usage: tsx bench/api/seed.ts <database url>\n');
    process.exit(2);
  }
  const given = process.env.CHAP_SEALING_KEY;
  const key = given ? Buffer.from(given, 'base64') : randomBytes(32);
  seedBenchDatabase(url, { keyId: process.env.CHAP_SEALING_KEY_ID ?? 'k1', key }).then(
    (r) => {
      if (!given) process.stdout.write(`CHAP_SEALING_KEY=${key.toString('base64')}\n`);
      process.stdout.write(`seeded ${r.backendIds.length} backends, ${r.nodeIds.length} nodes, ${r.lunIds.length} LUNs\nadmin key: ${r.adminToken}\n`);
    },
    (err: Error) => {
      process.stderr.write(`seeding failed: ${err.message}\n`);
      process.exit(1);
    },
  );
}
