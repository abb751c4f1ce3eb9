import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';

/**
 * The pages people open in a browser, in a real one: Debian's chromium, headless, driven
 * by playwright-core (which never downloads a browser here). Swagger UI at /docs, and Bull
 * Board at /admin/queues behind HTTP Basic with an admin key as the password, showing the
 * job a LUN's creation left in its backend's queue (no worker runs, so the job waits).
 */

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const UI_TIMEOUT_MS = 15_000;

let h: ApiHarness | undefined;
let server: Server | undefined;
let baseUrl: string;
let browser: Browser | undefined;
let screenshotDir: string;

/** No chromium, no test: this throws (the suite fails), it never skips. */
async function assertChromiumAvailable(): Promise<void> {
  const version = await new Promise<string>((resolve, reject) =>
    execFile(CHROMIUM, ['--version'], { timeout: 10_000 }, (err, stdout) =>
      err ? reject(new Error(`${CHROMIUM} is not usable (${err.message}): apt-get install -y chromium`)) : resolve(stdout),
    ),
  );
  if (!/Chromium \d+/.test(version)) throw new Error(`unexpected ${CHROMIUM} --version output: ${version}`);
}

/** A fresh context (own cookies and credential cache) whose failed requests to our server are recorded. */
async function openPage(credentials?: { username: string; password: string }): Promise<{ context: BrowserContext; page: Page; failures: string[] }> {
  const context = await browser!.newContext({ httpCredentials: credentials, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const failures: string[] = [];
  page.on('requestfailed', (req) => failures.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
  page.on('response', (res) => {
    if (res.status() >= 400 && res.url().startsWith(baseUrl)) failures.push(`${res.request().method()} ${res.url()}: ${res.status()}`);
  });
  return { context, page, failures };
}

const screenshot = (page: Page, name: string) => page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });

beforeAll(async () => {
  await assertChromiumAvailable();
  screenshotDir = mkdtempSync('/tmp/bootlun-browser-');
  h = await startApiHarness();
  server = await new Promise<Server>((resolve) => {
    const s = h!.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // playwright launches with a fresh temporary profile (--user-data-dir) and adds the headless switches itself.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
  console.info(`browser tests: ${browser.version()}, screenshots in ${screenshotDir}`);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server?.closeAllConnections();
  await h?.close();
});

describe('in a browser (chromium, headless)', () => {
  it('/docs renders Swagger UI with our title and the LUN operations', async () => {
    const { context, page, failures } = await openPage();
    try {
      await page.goto(`${baseUrl}/docs`);
      const title = page.locator('.swagger-ui .info .title');
      await title.waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await title.innerText()).toContain('bootlun — iSCSI boot-LUN manager');
      const createLun = page.locator('.opblock-summary', { hasText: 'Create a LUN' });
      await createLun.first().waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await createLun.first().innerText()).toContain('/api/v1/storage/luns');
      await page.getByText('/api/v1/storage/luns', { exact: true }).first().waitFor({ timeout: UI_TIMEOUT_MS });
      await screenshot(page, 'docs');
      expect(failures).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('/admin/queues without credentials is refused with 401', async () => {
    const { context, page } = await openPage();
    try {
      const response = await page.goto(`${baseUrl}/admin/queues`);
      expect(response?.status()).toBe(401);
      expect(response?.headers()['www-authenticate']).toBe('Basic realm="bootlun"');
      await screenshot(page, 'queues-refused');
    } finally {
      await context.close();
    }
  });

  it('/admin/queues with an admin key shows the backend\'s queue and a LUN\'s waiting create job', async () => {
    const backend = await h!.as('admin').post('/api/v1/storage/backends', backendBody());
    expect(backend.status).toBe(201);
    const lun = await h!.as('admin').post('/api/v1/storage/luns', { name: unique('lun'), size_gb: 1, backend_id: backend.body.data.id });
    expect(lun.status).toBe(202);
    const operationId: string = lun.body.data.operation_id;
    expect(operationId).toEqual(expect.any(String));

    const { context, page, failures } = await openPage({ username: 'admin', password: h!.keys.admin });
    try {
      const response = await page.goto(`${baseUrl}/admin/queues`);
      expect(response?.status()).toBe(200);
      const queueLink = page.getByText(`${backend.body.data.name} (tgt)`, { exact: true });
      await queueLink.first().waitFor({ timeout: UI_TIMEOUT_MS });
      await screenshot(page, 'queues-overview');

      await queueLink.first().click();
      await page.getByText('lun.create').first().waitFor({ timeout: UI_TIMEOUT_MS });
      await page.getByText(`#${operationId}`).first().waitFor({ timeout: UI_TIMEOUT_MS });
      await screenshot(page, 'queue-with-job');
      expect(failures).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
