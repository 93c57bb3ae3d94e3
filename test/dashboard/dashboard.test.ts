// Browser tests of the dashboard (docs/dashboard.md) against a real loopback pair: two
// `twinlease serve` processes (test/dashboard/harness.ts), Debian's chromium through
// playwright-core, headless. Login, both servers normal, a lease a client got and its seed-001
// fields, the scopes page, a read-only token without action buttons, the partner killed with
// SIGKILL seen live without a reload, partner-down declared from the page, axe-core on each page,
// no request to another host, a phone-sized screen. Screenshots are taken on every run; they replace
// docs/img/ only with TWINLEASE_SCREENSHOTS=1 (a test run must not change tracked files).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ensureBuilt, launchBrowser, Pair, READ_ONLY_TOKEN, RELATIONSHIP, REPO, Relay } from './harness.js';

const IMG =
  process.env.TWINLEASE_SCREENSHOTS === '1'
    ? join(REPO, 'docs/img')
    : mkdtempSync(join(tmpdir(), 'twinlease-dashboard-img-'));
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core on the page as it is; fails on serious or critical violations. */
async function checkAccessibility(page: Page, what: string): Promise<void> {
  // evaluate, not a <script> tag: the page's CSP allows no inline script.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run()).violations;
  });
  const bad = (violations as AxeViolation[]).filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `axe on ${what}`,
  );
}

const rel = `[data-relationship="${RELATIONSHIP}"]`;
const localState = `${rel} [data-server="local"] [data-field="state"]`;
const partnerState = `${rel} [data-server="partner"] [data-field="state"]`;

describe('dashboard in a browser against a running pair', { timeout: 240_000 }, () => {
  const pair = new Pair();
  let relay: Relay;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const foreignRequests: string[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    ensureBuilt();
    mkdirSync(IMG, { recursive: true });
    pair.start(pair.primary);
    pair.start(pair.secondary);
    await pair.waitFor(
      'both servers normal',
      async () =>
        (await pair.stateOf(pair.primary)) === 'normal' && (await pair.stateOf(pair.secondary)) === 'normal',
    );
    relay = await Relay.open([
      { address: pair.primary.dhcpAddress, port: pair.primary.dhcpPort },
      { address: pair.secondary.dhcpAddress, port: pair.secondary.dhcpPort },
    ]);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    const origin = pair.url(pair.primary, '');
    page.on('request', (r) => {
      if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) foreignRequests.push(r.url());
    });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  after(async () => {
    relay?.close();
    await browser?.close();
    await pair.stop();
  });

  test('without a token: the login page, and no data', async () => {
    for (const path of ['/ui/api/snapshot', '/ui/api/events', '/api/v1/status']) {
      const res = await fetch(pair.url(pair.primary, path));
      assert.equal(res.status, 401, path);
    }
    const bad = await fetch(pair.url(pair.primary, '/ui/api/snapshot'), {
      headers: { authorization: 'Bearer not-a-token-at-all' },
    });
    assert.equal(bad.status, 401);
    await page.goto(pair.url(pair.primary));
    await page.getByLabel('API token').waitFor();
    assert.equal(await page.locator(rel).count(), 0);
    await checkAccessibility(page, 'login page');
    await page.getByLabel('API token').fill('wrong-token-0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The server does not know this token.').waitFor();
  });

  test('log in: both servers normal, no alerts', async () => {
    await page.getByLabel('API token').fill(pair.primary.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator(`${localState}[data-state="normal"]`).waitFor({ timeout: 10_000 });
    await page.locator(`${partnerState}[data-state="normal"]`).waitFor({ timeout: 10_000 });
    assert.match(await page.locator(`${rel} [data-field="reachable"]`).innerText(), /reachable/);
    await page.getByText('No alerts').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('twinlease.token')), pair.primary.token);
    assert.ok(
      (await page.locator(`${rel} [data-server="local"] [data-field="why"]`).innerText()).length > 10,
    );
    await page.locator('.live[data-live="live"]').waitFor();
    assert.equal(await page.locator('[data-action="partner-down"]').count(), 1);
    await checkAccessibility(page, 'overview');
    await page.screenshot({ path: join(IMG, 'dashboard-overview.png'), fullPage: true });
  });

  test('a lease a client got: search by MAC, IP and host name; every seed-001 field', async () => {
    const mac = '02:42:ac:11:00:2a';
    const hostname = 'dash-laptop';
    const granted = await relay.lease(mac, hostname);
    // Whichever server granted it, the primary holds it once the binding update arrived.
    await pair.waitFor('the lease on the primary', async () => {
      const r = await pair.api<{ bindingState: string }>(pair.primary, `/api/v1/leases/${granted.address}`);
      return r.status === 200 && r.body.bindingState === 'active';
    });
    await page.goto(`${pair.url(pair.primary)}#/leases`);
    for (const [q, by] of [
      [mac, 'mac'],
      [granted.address, 'ip'],
      [hostname, 'hostname'],
    ] as const) {
      await page.getByLabel('IP, MAC or host name').fill(q);
      await page.getByLabel('Search by').selectOption(by);
      await page.getByRole('button', { name: 'Search' }).click();
      await page.locator(`tr[data-lease="${granted.address}"]`).waitFor({ timeout: 5000 });
    }
    await checkAccessibility(page, 'lease search');
    await page.getByRole('link', { name: granted.address }).click();
    const field = (name: string) => page.locator(`[data-field="${name}"]`).innerText();
    await page.locator('[data-field="ipAddress"]').waitFor();
    assert.equal(await field('ipAddress'), granted.address);
    assert.equal(await field('scopeId'), 'demo');
    assert.equal(await field('subnetMask'), '255.255.255.0');
    assert.match(await field('hardwareAddress'), new RegExp(mac));
    assert.equal(await field('hostname'), hostname);
    assert.equal(await field('bindingState'), 'active');
    assert.equal(await field('addressState'), 'active');
    assert.equal(await field('clientType'), 'dhcp');
    assert.match(await field('ownerServer'), /dhcp-[ab]/);
    // A first grant is capped at MCLT (600 s in the pair configs), D12 §6.3.
    assert.match(await field('leaseExpiresAt'), /\(in (9|10) min\)/);
    assert.match(await field('clientLastTransactionAt'), /\((now|\d+ s ago)\)/);
    assert.match(await field('stateStartedAt'), /\((now|\d+ s ago)\)/);
    // The primary learned it from its partner or granted it and sent it: failover times present.
    const failoverTimes = [
      await field('sentPotentialExpiresAt'),
      await field('ackedPotentialExpiresAt'),
      await field('receivedPotentialExpiresAt'),
    ];
    assert.ok(
      failoverTimes.some((t) => /\(in \d+ (min|h)/.test(t)),
      failoverTimes.join(' | '),
    );
    assert.match(await field('lastBindingUpdateAt'), /ago|now/);
    for (const f of [
      'clientId',
      'description',
      'fqdn',
      'leaseInfinite',
      'reserved',
      'dhcidMode',
      'dns',
      'napStatus',
      'napCapable',
      'probationEndsAt',
      'partnerUpToDate',
      'policyName',
      'offerExpiresAt',
    ]) {
      assert.equal(await page.locator(`[data-field="${f}"]`).count(), 1, f);
    }
    await checkAccessibility(page, 'lease detail');
    await page.screenshot({ path: join(IMG, 'dashboard-lease.png'), fullPage: true });
  });

  test('scopes: the seven numbers, sort, filter, a scope with its chart', async () => {
    await page.goto(`${pair.url(pair.primary)}#/scopes`);
    const row = page.locator('tr[data-scope="demo"]');
    await row.waitFor();
    const api = await pair.api<Record<string, number>>(pair.primary, '/api/v1/scopes/demo/statistics');
    assert.equal(api.status, 200);
    await page.getByRole('button', { name: /^In use$/ }).click();
    assert.equal(await page.locator('th[aria-sort="descending"]').count(), 1);
    await page.getByLabel('Filter').fill('no-such-scope');
    assert.equal(await row.count(), 0);
    await page.getByLabel('Filter').fill('192.168.77');
    await row.waitFor();
    await checkAccessibility(page, 'scopes');
    await row.getByRole('link').click();
    await page.locator('[data-stat="numAddr"]').waitFor();
    // The page is at most one push (2 s) behind the API.
    const keys = [
      'numAddr',
      'addrFree',
      'addrInUse',
      'partnerAddrFree',
      'thisAddrFree',
      'partnerAddrInUse',
      'thisAddrInUse',
    ];
    await pair.waitFor(
      'the page to show the API statistics',
      async () => {
        for (const k of keys) {
          if (Number(await page.locator(`[data-stat="${k}"] .v`).innerText()) !== api.body[k]) return false;
        }
        return true;
      },
      5000,
    );
    assert.ok(Number(await page.locator('[data-stat="addrInUse"] .v').innerText()) >= 1);
    assert.match((await page.locator('.chart svg').getAttribute('aria-label')) ?? '', /samples/);
    await checkAccessibility(page, 'scope detail');
    await page.screenshot({ path: join(IMG, 'dashboard-scope.png'), fullPage: true });
  });

  test('a read-only token sees no action button', async () => {
    const ro = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const p = await ro.newPage();
      await p.goto(pair.url(pair.primary));
      await p.getByLabel('API token').fill(READ_ONLY_TOKEN);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.locator(`${localState}[data-state="normal"]`).waitFor({ timeout: 10_000 });
      await p.getByText('read-only', { exact: true }).waitFor();
      assert.equal(await p.locator('[data-action]').count(), 0);
      assert.equal(await p.getByRole('button', { name: /partner down|replicate|resync/i }).count(), 0);
      // And the API refuses the write anyway.
      const res = await fetch(
        pair.url(pair.primary, `/api/v1/failover/relationships/${RELATIONSHIP}/actions/partner-down`),
        {
          method: 'POST',
          headers: { authorization: `Bearer ${READ_ONLY_TOKEN}` },
        },
      );
      assert.equal(res.status, 403);
    } finally {
      await ro.close();
    }
  });

  test('on a phone-sized screen the overview fits the width', async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    try {
      const p = await phone.newPage();
      await p.goto(pair.url(pair.primary));
      await p.getByLabel('API token').fill(pair.primary.token);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.locator(`${localState}[data-state="normal"]`).waitFor({ timeout: 10_000 });
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `page is ${overflow} px wider than the screen`);
      await p.screenshot({ path: join(IMG, 'dashboard-phone.png'), fullPage: true });
    } finally {
      await phone.close();
    }
  });

  test('SIGKILL the secondary: the primary’s page changes within seconds, without a reload', async () => {
    await page.goto(`${pair.url(pair.primary)}#/overview`);
    await page.locator(`${localState}[data-state="normal"]`).waitFor({ timeout: 10_000 });
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    const t0 = Date.now();
    pair.kill(pair.secondary, 'SIGKILL');
    await page.locator(`${localState}[data-state="communicationsInterrupted"]`).waitFor({ timeout: 10_000 });
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(seconds < 10, `took ${seconds} s`);
    assert.match(await page.locator(`${rel} [data-field="reachable"]`).innerText(), /unreachable/);
    assert.match(
      await page.locator(`${rel} [data-server="local"] [data-field="why"]`).innerText(),
      /Lost contact with dhcp-b/,
    );
    assert.equal(
      await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      true,
    );
    console.log(`# state change on the page ${seconds.toFixed(1)} s after SIGKILL`);
  });

  test('declare partner-down from the page', async () => {
    const button = page.locator('[data-action="partner-down"]');
    await button.click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const text = await dialog.innerText();
    assert.match(text, /Risk/);
    assert.match(text, /same address/);
    await checkAccessibility(page, 'partner-down confirmation');
    await dialog.getByRole('button', { name: 'Declare dhcp-b down' }).click();
    await page
      .locator(`${rel} .result[data-ok="true"]`)
      .filter({ hasText: 'done' })
      .waitFor({ timeout: 10_000 });
    await page.locator(`${localState}[data-state="partnerDown"]`).waitFor({ timeout: 10_000 });
    assert.equal(await pair.stateOf(pair.primary), 'partnerDown');
    await page
      .locator('.alert[data-severity="critical"]')
      .filter({ hasText: 'partner-down' })
      .waitFor({ timeout: 10_000 });
    assert.match(
      await page.locator(`${rel} [data-server="local"] [data-field="why"]`).innerText(),
      /Declared by an operator \(token "ops"\)/,
    );
    await checkAccessibility(page, 'overview in partner-down');
    await page.screenshot({ path: join(IMG, 'dashboard-partner-down.png'), fullPage: true });
  });

  test('nothing was loaded from another host, no script error', () => {
    assert.deepEqual(foreignRequests, []);
    assert.deepEqual(pageErrors, []);
  });
});
