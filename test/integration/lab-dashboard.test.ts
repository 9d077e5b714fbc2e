// `lab dashboard` for real: the lab CLI serves the page over a running local system, a real headless Chromium (Debian's
// chromium, driven by playwright-core) opens it, kills a replica with the page's own button and sees that replica's
// share fall to 0 %, then starts an experiment from the page and watches its phases (taking the screenshot the docs
// show). Its API refuses anyone but the page: a wrong Host, another Origin, no token, or a body that is not JSON.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pollUntil } from '../../scripts/stack/poll-until.js';
import { useLabSystem } from '../helpers/lab-system-fixture.js';
import { childEnv, TsProcess } from '../helpers/ts-process.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const system = useLabSystem(3);
const scratch = mkdtempSync(path.join(tmpdir(), 'lab-dashboard-'));
let dashboard: TsProcess;
let url: URL;
let token: string;
let browser: Browser;
let page: Page;

/** One raw HTTP request to the dashboard, with exactly the headers given (Host included). */
function raw(method: string, route: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port: Number(url.port), method, path: route, headers, setHost: false }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** The text of one cell of a replica's row, as the page shows it now. */
async function cell(replica: string, column: string): Promise<string> {
  return (await page.locator(`tr[data-replica="${replica}"] td.${column}`).textContent({ timeout: 5000 })) ?? '';
}

beforeAll(async () => {
  dashboard = new TsProcess(
    'scripts/lab/lab.ts',
    ['--driver', 'local', 'dashboard', '--port', '0', '--probe', '20'],
    childEnv([], { LAB_STATE_FILE: system.stateFile }),
  );
  const line = await dashboard.until('the dashboard URL', () => dashboard.lines.find((l) => /lab dashboard: http:\/\/127\.0\.0\.1:\d+\//.test(l)), 30_000);
  url = new URL(/http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0]);
  const html = await raw('GET', '/', { Host: url.host });
  token = /<meta name="lab-token" content="([0-9a-f]+)"/.exec(html.text)?.[1] ?? '';
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  dashboard?.signal('SIGTERM');
  await dashboard?.waitForExit(15_000).catch(() => dashboard.kill());
  rmSync(scratch, { recursive: true, force: true });
}, 30_000);

describe('lab dashboard: its API answers only the page it served', () => {
  test('the page holds a per-run token; the API answers with it', async () => {
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    const state = await raw('GET', '/api/meta', { Host: url.host, 'X-Lab-Token': token });
    expect(state.status).toBe(200);
    expect(JSON.parse(state.text)).toMatchObject({ policies: expect.arrayContaining(['ROUND_ROBIN']) });
  });

  test.each([
    ['no token', { 'X-Lab-Token': '' }, 403],
    ['a wrong token', { 'X-Lab-Token': 'f'.repeat(48) }, 403],
    ['another Host (DNS rebinding)', { Host: 'evil.example:80' }, 421],
    ['another Origin', { Origin: 'http://evil.example' }, 403],
  ])('refuses a request with %s', async (_what, headers, status) => {
    const answer = await raw('GET', '/api/state', { Host: url.host, 'X-Lab-Token': token, ...headers });
    expect(answer.status, answer.text).toBe(status);
    // A refused request changes nothing and says why in one line.
    expect(JSON.parse(answer.text).error).toMatch(/\S/);
  });

  test('refuses a verb sent as a form (not JSON), and serves the page itself only to its own Host', async () => {
    const form = await raw('POST', '/api/action', { Host: url.host, 'X-Lab-Token': token, 'Content-Type': 'text/plain' }, '{"verb":"kill","replica":"grpc-server-1"}');
    expect(form.status).toBe(415);
    expect((await raw('GET', '/', { Host: 'evil.example' })).status).toBe(421);
    expect((await system.driver.replicas()).filter((r) => r.state === 'running')).toHaveLength(3);
  });
});

describe('lab dashboard in a real headless Chromium', () => {
  test("the page's kill button takes a replica out: its share falls to 0 %", async () => {
    await page.goto(url.href);
    // The dashboard's own probe gives every replica a share of the calls.
    await pollUntil(
      'every replica to show a share of the calls',
      async () => {
        const shares = await Promise.all(['grpc-server-1', 'grpc-server-2', 'grpc-server-3'].map((r) => cell(r, 'share')));
        return shares.every((s) => /^[1-9]\d* %$/.test(s.trim())) ? shares : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(await cell('grpc-server-2', 'envoy')).toBe('healthy');
    await page.locator('tr[data-replica="grpc-server-2"] button[data-verb="kill"]').click();
    await pollUntil('the page to show grpc-server-2 at 0 %', async () => (await cell('grpc-server-2', 'share')).trim() === '0 %', {
      timeoutMs: 15_000,
      intervalMs: 250,
    });
    expect(await page.locator('#status').textContent()).toMatch(/kill grpc-server-2/);
    // The others share what it had.
    for (const replica of ['grpc-server-1', 'grpc-server-3']) expect((await cell(replica, 'share')).trim()).toMatch(/^[1-9]\d* %$/);
  }, 60_000);

  test('starts an experiment from the page and shows its phases until it passes', async () => {
    await page.selectOption('#experiment-choice', 'kill');
    await page.locator('#experiment-quick').check();
    await page.locator('#start-experiment').click();
    // Mid-experiment, once the replica is killed under load and out of Envoy's rotation: the picture the docs show.
    const step = await page.locator('#experiment-lines li', { hasText: /SIGKILL grpc-server-\d+ under the same load/ }).textContent({ timeout: 60_000 });
    const victim = /SIGKILL (grpc-server-\d+)/.exec(step ?? '')?.[1] ?? '';
    await pollUntil(`the page to show ${victim} at 0 % under the experiment's load`, async () => (await cell(victim, 'share')).trim() === '0 %', {
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    const screenshot = process.env.DASHBOARD_SCREENSHOT ?? path.join(scratch, 'dashboard.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(10_000);
    await page.locator('#experiment-title.passed, #experiment-title.failed, #experiment-title.error').waitFor({ timeout: 90_000 });
    const title = await page.locator('#experiment-title').textContent();
    const lines = await page.locator('#experiment-lines li').allTextContents();
    expect(title, lines.join('\n')).toBe('experiment kill: passed');
    expect(lines.some((l) => l.includes('restoring the baseline'))).toBe(true);
    expect(await page.locator('#experiment-figures li').count()).toBeGreaterThan(0);
  }, 150_000);
});
