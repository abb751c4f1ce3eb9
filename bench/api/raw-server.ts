/**
 * The API benchmark's baseline: the benchmarked endpoints written the minimal way, with
 * express 5 and node-postgres, hand-written checks and plain SQL, answering with the same
 * JSON bytes from the same database. It does the same work per request that matters to a
 * client: checks the API key against its hash on every request, reads names with the
 * rows, and creates a LUN with its operation in one transaction before putting the job on
 * the backend's BullMQ queue and marking the operation enqueued.
 *
 * It is what the API is measured against, not product code: it skips what a product needs
 * and a baseline does not (logging, metrics, error ids, the OpenAPI-driven validation).
 * Run by bench/api/main.ts as its own process, compiled to JavaScript first.
 */
import { createCipheriv, createHash, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type Response } from 'express';
import IORedis from 'ioredis';
import pg from 'pg';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

// timestamp(3) without time zone holds UTC (as Prisma writes it): answer as ISO strings.
pg.types.setTypeParser(1114, (text: string) => new Date(`${text.replace(' ', 'T')}Z`).toISOString());

const pool = new pg.Pool({ connectionString: env('DATABASE_URL') });
const redis = new IORedis(env('REDIS_URL'), { maxRetriesPerRequest: 1, enableOfflineQueue: false });
const prefix = env('BULLMQ_PREFIX');
const sealingKey = Buffer.from(env('CHAP_SEALING_KEY'), 'base64');
const sealingKeyId = process.env.CHAP_SEALING_KEY_ID ?? 'k1';
const queues = new Map<string, Queue>();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KEY = /^blk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const LUN_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const STATUSES = ['creating', 'ready', 'active', 'error', 'deleting'];
const PURPOSES = ['boot_from_san', 'install_source', 'auto_provision'];
const CHAP_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

const LUN_COLUMNS = `l.id, l.name, l.size_gb, l.backend_id, b.name AS backend_name, l.iqn, l.lun_number, l.purpose, l.template, l.source_lun_id, l.source_snapshot_id, l.status, l.error_message,
  l.assigned_node_id, COALESCE(n.hostname, n.mac_address) AS assigned_node_name, l.chap_enabled, l.chap_username, l.mutual_chap_enabled,
  l.target_chap_username, l.drift, l.generation, l.created_at, l.updated_at`;
const LUN_FROM = 'iscsi_luns l JOIN storage_backends b ON b.id = l.backend_id LEFT JOIN nodes n ON n.id = l.assigned_node_id';

type Row = Record<string, unknown>;

function lunJson(r: Row) {
  return {
    id: r.id,
    name: r.name,
    size_gb: r.size_gb,
    backend_id: r.backend_id,
    backend_name: r.backend_name,
    target_id: r.backend_id,
    target_name: r.backend_name,
    iqn: r.iqn,
    lun_number: r.lun_number,
    purpose: r.purpose,
    template: r.template,
    source_lun_id: r.source_lun_id,
    source_snapshot_id: r.source_snapshot_id,
    status: r.status,
    error_message: r.error_message,
    assigned_node_id: r.assigned_node_id,
    assigned_node_name: r.assigned_node_name,
    chap_enabled: r.chap_enabled,
    chap_username: r.chap_username,
    mutual_chap_enabled: r.mutual_chap_enabled,
    target_chap_username: r.target_chap_username,
    drift: r.drift,
    generation: r.generation,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

const fail = (res: Response, status: number, error: string, detail: string) => res.status(status).json({ success: false, error, detail });

async function authenticate(req: Request, res: Response, next: NextFunction) {
  const header = req.headers.authorization ?? '';
  const match = header.startsWith('Bearer ') ? KEY.exec(header.slice(7).trim()) : null;
  if (!match) return fail(res, 401, 'unauthorized', 'a valid API key is required');
  const { rows } = await pool.query('SELECT role, secret_hash, revoked_at FROM api_keys WHERE lookup_id = $1', [match[1]]);
  const key = rows[0] as { role: string; secret_hash: string; revoked_at: string | null } | undefined;
  const actual = createHash('sha256').update(match[2]!).digest();
  if (!key || key.revoked_at || !timingSafeEqual(Buffer.from(key.secret_hash, 'hex'), actual)) return fail(res, 401, 'unauthorized', 'the API key is unknown or revoked');
  res.locals.role = key.role;
  next();
}

function pageOf(query: Request['query']): { limit: number; offset: number } | null {
  const limit = query.limit === undefined ? 100 : Number(query.limit);
  const offset = query.offset === undefined ? 0 : Number(query.offset);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000 || !Number.isInteger(offset) || offset < 0) return null;
  return { limit, offset };
}

function seal(plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealingKey, iv);
  cipher.setAAD(Buffer.from(JSON.stringify(['bootlun-sealed-secret', 2, sealingKeyId, context])));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `v2:${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64')}`;
}

function chapSecret(): string {
  let secret = '';
  for (let i = 0; i < 16; i++) secret += CHAP_ALPHABET[randomInt(CHAP_ALPHABET.length)];
  return secret;
}

function queueFor(backendId: string): Queue {
  let queue = queues.get(backendId);
  if (!queue) {
    queue = new Queue(`storage-${backendId}`, { connection: redis, prefix });
    queue.on('error', () => undefined);
    queues.set(backendId, queue);
  }
  return queue;
}

const app = express();
app.disable('x-powered-by');
app.set('query parser', 'simple');
app.use(express.json({ limit: '64kb' }));
app.get('/healthz', (_req, res) => {
  res.json({ success: true, data: { status: 'ok' } });
});

const api = express.Router();
api.use(authenticate);

api.get('/storage/luns', async (req, res) => {
  const page = pageOf(req.query);
  if (!page) return fail(res, 400, 'validation_error', 'limit must be 1-1000 and offset at least 0');
  const where: string[] = [];
  const params: unknown[] = [];
  const backendId = req.query.backend_id ?? req.query.target_id;
  for (const [column, value, ok] of [
    ['backend_id', backendId, (v: string) => UUID.test(v)],
    ['status', req.query.status, (v: string) => STATUSES.includes(v)],
    ['purpose', req.query.purpose, (v: string) => PURPOSES.includes(v)],
    ['assigned_node_id', req.query.assigned_node_id, (v: string) => UUID.test(v)],
  ] as const) {
    if (value === undefined) continue;
    if (typeof value !== 'string' || !ok(value)) return fail(res, 400, 'validation_error', `invalid ${column}`);
    params.push(value);
    where.push(`l.${column} = $${params.length}`);
  }
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const rows = await pool.query(`SELECT ${LUN_COLUMNS} FROM ${LUN_FROM} ${filter} ORDER BY l.created_at, l.id LIMIT ${page.limit} OFFSET ${page.offset}`, params);
  const count = await pool.query(`SELECT count(*)::int AS total FROM iscsi_luns l ${filter}`, params);
  res.json({ success: true, data: rows.rows.map(lunJson), total: count.rows[0].total });
});

api.get('/storage/luns/:id', async (req, res) => {
  if (!UUID.test(req.params.id)) return fail(res, 400, 'validation_error', 'id must be a UUID');
  const { rows } = await pool.query(`SELECT ${LUN_COLUMNS} FROM ${LUN_FROM} WHERE l.id = $1`, [req.params.id]);
  if (rows.length === 0) return fail(res, 404, 'not_found', `LUN ${req.params.id} not found`);
  res.json({ success: true, data: lunJson(rows[0]) });
});

api.post('/storage/luns', async (req, res) => {
  if (res.locals.role === 'viewer') return fail(res, 403, 'forbidden', 'this action needs the operator role');
  const body = req.body as Record<string, unknown>;
  const name = typeof body.name === 'string' ? body.name.trim().toLowerCase() : '';
  const backendId = body.backend_id ?? body.target_id;
  const purpose = body.purpose ?? 'boot_from_san';
  if (name.length < 2 || name.length > 63 || !LUN_NAME.test(name)) return fail(res, 400, 'validation_error', 'invalid name');
  if (!Number.isInteger(body.size_gb) || (body.size_gb as number) < 1 || (body.size_gb as number) > 10_000) return fail(res, 400, 'validation_error', 'invalid size_gb');
  if (typeof backendId !== 'string' || !UUID.test(backendId)) return fail(res, 400, 'validation_error', 'invalid backend_id');
  if (typeof purpose !== 'string' || !PURPOSES.includes(purpose)) return fail(res, 400, 'validation_error', 'invalid purpose');
  if (body.chap_enabled !== undefined && typeof body.chap_enabled !== 'boolean') return fail(res, 400, 'validation_error', 'invalid chap_enabled');

  const backends = await pool.query('SELECT name, config FROM storage_backends WHERE id = $1', [backendId]);
  const backend = backends.rows[0] as { name: string; config: { iqn_prefix: string; chap_enabled?: boolean } } | undefined;
  if (!backend) return fail(res, 400, 'validation_error', `storage backend ${backendId} does not exist`);
  const chap = (body.chap_enabled as boolean | undefined) ?? backend.config.chap_enabled ?? false;
  const mutual = chap && body.mutual_chap_enabled === true;
  const prefix = backend.config.iqn_prefix;
  const iqn = `${prefix.endsWith(':') ? prefix : prefix.includes(':') ? `${prefix.replace(/\.$/, '')}.` : `${prefix}:`}${name}`;
  const id = randomUUID();
  const short = id.replace(/-/g, '').slice(0, 12);

  const client = await pool.connect();
  let lun: Row;
  let operationId: string;
  try {
    await client.query('BEGIN');
    const inserted = await client.query(
      `INSERT INTO iscsi_luns AS l (id, name, size_gb, backend_id, iqn, purpose, status, chap_enabled, chap_username, chap_secret_sealed, chap_secret_key_id,
                                    mutual_chap_enabled, target_chap_username, target_chap_secret_sealed, target_chap_secret_key_id, generation, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'creating', $7, $8, $9, $10, $11, $12, $13, $14, 1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
       RETURNING l.id, l.name, l.size_gb, l.backend_id, l.iqn, l.lun_number, l.purpose, l.template, l.source_lun_id, l.source_snapshot_id, l.status, l.error_message, l.assigned_node_id, l.chap_enabled,
                 l.chap_username, l.mutual_chap_enabled, l.target_chap_username, l.drift, l.generation, l.created_at, l.updated_at`,
      [
        id,
        name,
        body.size_gb,
        backendId,
        iqn,
        purpose,
        chap,
        chap ? `bl${short}` : null,
        chap ? seal(chapSecret(), `lun:${id}:chap`) : null,
        chap ? sealingKeyId : null,
        mutual,
        mutual ? `bt${short}` : null,
        mutual ? seal(chapSecret(), `lun:${id}:target_chap`) : null,
        mutual ? sealingKeyId : null,
      ],
    );
    lun = { ...inserted.rows[0], backend_name: backend.name, assigned_node_name: null };
    const op = await client.query(
      `INSERT INTO operations (id, kind, backend_id, lun_id, lun_name, lun_generation, params, max_attempts, created_at, updated_at)
       VALUES ($1, 'create', $2, $3, $4, 1, '{}', 5, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC') RETURNING id`,
      [randomUUID(), backendId, id, name],
    );
    operationId = op.rows[0].id;
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if ((err as { code?: string }).code === '23505') return fail(res, 409, 'conflict', `a LUN named ${name} already exists`);
    throw err;
  } finally {
    client.release();
  }

  let message = 'LUN creation queued';
  try {
    await queueFor(backendId).add(
      'lun.create',
      { operationId, lunId: id },
      { jobId: operationId, attempts: 5, backoff: { type: 'jittered-exponential', delay: 2_000 }, removeOnComplete: { age: 24 * 3600, count: 1000 }, removeOnFail: { age: 7 * 24 * 3600 } },
    );
    await pool.query(`UPDATE operations SET enqueued_at = now() AT TIME ZONE 'UTC', job_id = $1, updated_at = now() AT TIME ZONE 'UTC' WHERE id = $1`, [operationId]);
  } catch {
    message += '; the job queue is unreachable right now; the change is stored and will be dispatched when it is back';
  }
  res.status(202).json({ success: true, data: { ...lunJson(lun), operation_id: operationId }, message });
});

api.get('/nodes', async (req, res) => {
  const page = pageOf(req.query);
  if (!page) return fail(res, 400, 'validation_error', 'limit must be 1-1000 and offset at least 0');
  const rows = await pool.query(`SELECT id, mac_address, hostname, initiator_iqn, ip_address, created_at, updated_at FROM nodes ORDER BY created_at, id LIMIT ${page.limit} OFFSET ${page.offset}`);
  const count = await pool.query('SELECT count(*)::int AS total FROM nodes');
  const data = rows.rows.map((r) => ({ id: r.id, mac_address: r.mac_address, hostname: r.hostname, initiator_iqn: r.initiator_iqn, ip_address: r.ip_address, created_at: r.created_at, updated_at: r.updated_at }));
  res.json({ success: true, data, total: count.rows[0].total });
});

app.use('/api/v1', api);
app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
  process.stderr.write(`raw baseline: ${err.stack ?? err.message}\n`);
  fail(res, 500, 'internal_error', 'unexpected error');
});

const server = app.listen(Number(env('PORT')), '127.0.0.1');
process.once('SIGTERM', () => {
  server.close();
  void Promise.allSettled([...queues.values()].map((q) => q.close())).then(async () => {
    redis.disconnect();
    await pool.end();
    process.exit(0);
  });
});
