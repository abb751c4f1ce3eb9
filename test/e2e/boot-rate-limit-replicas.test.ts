import { startApiProcess, type ApiProcess } from '../support/api-process';
import { ownRedisEnv, startPrivateRedis, type PrivateServer } from '../support/private-services';
import { directClient } from '../support/redis-ha';

/**
 * The boot endpoint's rate limit is one limit for the whole deployment: two API processes
 * on one Redis count a source's requests together, whichever replica the load balancer
 * picks. A Redis outage lets boot requests through rather than stopping nodes from booting.
 */
let redis: PrivateServer;
let apis: ApiProcess[] = [];
const PREFIX = `bootlun-rl-${process.pid}`;

beforeAll(async () => {
  redis = await startPrivateRedis();
  const env = { QUEUE_BACKEND: 'redis', ...ownRedisEnv(redis.url), BULLMQ_PREFIX: PREFIX, BOOT_RATE_LIMIT_PER_MINUTE: '5' };
  apis = await Promise.all([startApiProcess(env), startApiProcess(env)]);
}, 60_000);
afterAll(async () => {
  await Promise.all(apis.map((a) => a.stop()));
  await redis?.destroy();
});

const boot = (api: ApiProcess) => fetch(`${api.baseUrl}/api/v1/boot/ipxe?mac=02:00:5e:00:53:aa`);

it('counts one source across both replicas: the sixth request gets 429 iPXE text with Retry-After from either', async () => {
  const [a, b] = apis as [ApiProcess, ApiProcess];
  const statuses: number[] = [];
  for (const api of [a, b, a, b, a]) statuses.push((await boot(api)).status);
  expect(statuses).toEqual([200, 200, 200, 200, 200]);

  for (const api of [b, a]) {
    const limited = await boot(api);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^text\/plain/);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await limited.text()).toMatch(new RegExp(`^#!ipxe[\\s\\S]*too many boot script requests\\W+retry in ${retryAfter} s`));
  }

  // express-rate-limit found nothing to warn about in the setup (its validations log ERR_ERL_* codes).
  for (const api of apis) expect(api.output()).not.toMatch(/ERR_ERL_/);

  const client = directClient(redis.port);
  try {
    const keys = await client.keys(`${PREFIX}:boot-rate:*`);
    expect(keys).toHaveLength(1);
    expect(Number(await client.get(keys[0]!))).toBe(7);
  } finally {
    client.disconnect();
  }
});

it('lets boot requests through while Redis is down (the allow-list still applies), and limits again once it is back', async () => {
  const [a, b] = apis as [ApiProcess, ApiProcess];
  await redis.stop();
  try {
    expect((await boot(a)).status).toBe(200);
    expect((await boot(b)).status).toBe(200);
  } finally {
    await redis.start();
  }
  // The append-only file kept the count: this source is still over its limit on both replicas.
  for (const api of [a, b]) {
    const status = await waitForStatus(api, 429);
    expect(status).toBe(429);
  }
});

async function waitForStatus(api: ApiProcess, wanted: number): Promise<number> {
  const deadline = Date.now() + 15_000;
  let status = 0;
  while (Date.now() < deadline) {
    status = (await boot(api)).status;
    if (status === wanted) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return status;
}
