import { backendBody, startApiHarness, type ApiHarness } from '../support/api-harness';
import { createBody, expectOneApiOutcome, fiftyCreates } from '../support/concurrent-creates';

let h: ApiHarness;
beforeAll(async () => (h = await startApiHarness()));
afterAll(() => h.close());

describe('concurrent creates on one backend', () => {
  it('50 parallel creates, ten sharing names: each name once, losers 409, no 5xx, one operation and one job per LUN', async () => {
    const backend = (await h.as('admin').post('/api/v1/storage/backends', backendBody())).body.data;
    const { names, shared } = fiftyCreates();
    const replies = await Promise.all(names.map((name) => h.as('operator').post('/api/v1/storage/luns', createBody(name, backend.id))));
    await expectOneApiOutcome(h, backend.id, shared, replies);
  });
});
