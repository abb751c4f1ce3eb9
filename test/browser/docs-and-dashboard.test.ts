import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { queueNameFor } from '@bootlun/jobs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { backendBody, startApiHarness, unique, type ApiHarness } from '../support/api-harness';

/**
 * The pages people open in a browser, in a real one: Debian's chromium, headless, driven
 * by playwright-core (which never downloads a browser here). Swagger UI at /docs, and Bull
 * Board at /admin/queues behind HTTP Basic with an admin key as the password, showing the
 * job a LUN's creation left in its backend's queue (no worker runs, so the job waits).
 * Screenshots of every page land in a temporary directory named in the log.
 */

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_APT_PACKAGE = 'chromium';
// playwright adds --headless itself (headless: true) and a fresh temporary --user-data-dir.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const UI_TIMEOUT_MS = 15_000;
const TITLE = 'bootlun — iSCSI boot-LUN manager';

let h: ApiHarness | undefined;
let server: Server | undefined;
let baseUrl: string;
let browser: Browser | undefined;
let screenshotDir: string;

/** No chromium, no test: this throws (the suite fails), it never skips. */
async function assertChromiumAvailable(): Promise<void> {
  const version = await new Promise<string>((resolve, reject) =>
    execFile(CHROMIUM, ['--version'], { timeout: 10_000 }, (err, stdout) =>
      err ? reject(new Error(`${CHROMIUM} is not usable (${err.message}): apt-get install -y ${CHROMIUM_APT_PACKAGE}`)) : resolve(stdout),
    ),
  );
  if (!/Chromium \d+/.test(version)) throw new Error(`unexpected ${CHROMIUM} --version output (apt-get install -y ${CHROMIUM_APT_PACKAGE}): ${version}`);
}

interface BrowserPage {
  page: Page;
  /** Requests to our server that failed or answered >= 400 (other than those a test expects). */
  failures: string[];
  /** Requests the page tried to make elsewhere; they are aborted so the test stays offline. */
  external: string[];
  /** What the page's Content-Security-Policy blocked, as chromium reports it on the console. */
  blocked: string[];
}

/**
 * Runs `body` on a page in a fresh context (its own cookies and credential cache). A failure
 * leaves a screenshot of the page as it was, beside the others.
 */
async function withPage(name: string, credentials: { username: string; password: string } | undefined, body: (p: BrowserPage) => Promise<void>): Promise<void> {
  const context: BrowserContext = await browser!.newContext({ httpCredentials: credentials, viewport: { width: 1280, height: 900 } });
  const failures: string[] = [];
  const external: string[] = [];
  const blocked: string[] = [];
  await context.route((url) => !url.href.startsWith(`${baseUrl}/`), (route) => {
    external.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  const ours = (url: string) => url.startsWith(`${baseUrl}/`);
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/.test(msg.text())) blocked.push(msg.text());
  });
  page.on('requestfailed', (req) => {
    if (ours(req.url())) failures.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText}`);
  });
  page.on('response', (res) => {
    if (ours(res.url()) && res.status() >= 400) failures.push(`${res.request().method()} ${res.url()}: ${res.status()}`);
  });
  try {
    await body({ page, failures, external, blocked });
  } catch (err) {
    await screenshot(page, `${name}-failure`).catch(() => undefined);
    throw err;
  } finally {
    await context.close();
  }
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
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
  console.info(`browser tests: chromium ${browser.version()}, screenshots in ${screenshotDir}`);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server?.closeAllConnections();
  await h?.close();
});

describe('in a browser (chromium, headless)', () => {
  it('/docs renders Swagger UI with our title and the LUN operations', async () => {
    await withPage('docs', undefined, async ({ page, failures, external, blocked }) => {
      await page.goto(`${baseUrl}/docs`);
      const title = page.locator('.swagger-ui .info .title');
      await title.waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await title.innerText()).toContain(TITLE);
      const createLun = page.locator('.opblock-post').filter({ hasText: 'Create a LUN' });
      await createLun.waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await createLun.locator('.opblock-summary-path').innerText()).toBe('/api/v1/storage/luns');
      await page.locator('.opblock-get .opblock-summary-path', { hasText: /^\/api\/v1\/storage\/luns$/ }).waitFor({ timeout: UI_TIMEOUT_MS });
      await screenshot(page, 'docs');
      expect(failures).toEqual([]);
      expect(external).toEqual([]);
      // Swagger UI runs whole under the page's Content-Security-Policy.
      expect(blocked).toEqual([]);
    });
  });

  it('/admin/queues without credentials is refused with 401 and a Basic challenge', async () => {
    await withPage('queues-refused', undefined, async ({ page, failures }) => {
      const challenge = page.waitForResponse((res) => new URL(res.url()).pathname === '/admin/queues', { timeout: UI_TIMEOUT_MS });
      // Headless chromium has no login prompt to show, so the navigation itself ends in
      // net::ERR_INVALID_AUTH_CREDENTIALS; what matters is what the server answered.
      const navigation = await page.goto(`${baseUrl}/admin/queues`).then(
        (res) => res,
        (err: Error) => err,
      );
      const res = await challenge;
      expect(res.status()).toBe(401);
      expect(res.headers()['www-authenticate']).toBe('Basic realm="bootlun"');
      if (!(navigation instanceof Error)) expect(navigation?.status()).toBe(401);
      await expect(page.getByText('bootlun jobs').count()).resolves.toBe(0);
      await screenshot(page, 'queues-refused');
      expect(failures.filter((f) => !f.endsWith('/admin/queues: 401') && !f.includes('/admin/queues: net::ERR_INVALID_AUTH_CREDENTIALS'))).toEqual([]);
    });
  });

  it("/admin/queues with an admin key shows the backend's queue and, opened, the LUN's waiting lun.create job", async () => {
    const backendRes = await h!.as('admin').post('/api/v1/storage/backends', backendBody());
    expect(backendRes.status).toBe(201);
    const backend: { id: string; name: string } = backendRes.body.data;
    const lunRes = await h!.as('admin').post('/api/v1/storage/luns', { name: unique('lun'), size_gb: 1, backend_id: backend.id });
    expect(lunRes.status).toBe(202);
    const operationId: string = lunRes.body.data.operation_id;
    expect(operationId).toEqual(expect.any(String));
    const queuePath = `/admin/queues/queue/${queueNameFor(backend.id)}`;

    await withPage('queues', { username: 'admin', password: h!.keys.admin }, async ({ page, failures, external, blocked }) => {
      const response = await page.goto(`${baseUrl}/admin/queues`);
      expect(response?.status()).toBe(200);
      await page.getByText('bootlun jobs', { exact: true }).first().waitFor({ timeout: UI_TIMEOUT_MS });
      // The board refreshes its queue list from the backends table, so the new backend shows up.
      const queueCard = page.getByText(`${backend.name} (tgt)`, { exact: true }).first();
      await queueCard.waitFor({ timeout: UI_TIMEOUT_MS });
      await screenshot(page, 'queues-overview');

      await queueCard.click();
      await page.waitForURL(`${baseUrl}${queuePath}`, { timeout: UI_TIMEOUT_MS });
      const jobLink = page.getByRole('link', { name: operationId, exact: true });
      const jobCard = page
        .locator('div')
        .filter({ has: jobLink })
        .filter({ has: page.getByRole('heading', { name: 'lun.create', exact: true }) })
        .last();
      await jobCard.waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await jobLink.getAttribute('href')).toBe(`${queuePath}/${operationId}`);
      await screenshot(page, 'queue-with-job');

      // The job's own page, loaded straight from the server (a deep link under the base path).
      expect((await page.goto(`${baseUrl}${queuePath}/${operationId}`))?.status()).toBe(200);
      await page.getByRole('heading', { name: 'lun.create', exact: true }).waitFor({ timeout: UI_TIMEOUT_MS });
      await page.getByText(`"${operationId}"`).first().waitFor({ timeout: UI_TIMEOUT_MS });
      await screenshot(page, 'job');

      expect(failures).toEqual([]);
      // Bull Board's page links a web-font stylesheet elsewhere: the Content-Security-Policy
      // blocks it before any request leaves, and nothing of Bull Board's own is blocked.
      expect(external).toEqual([]);
      expect(blocked.filter((message) => !/^Loading the stylesheet 'https:\/\/[^']+' violates the following Content Security Policy directive: "style-src /.test(message))).toEqual([]);
    });
  });
});
