import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { BrowserContext, Page } from 'playwright-core';
import { adminJson } from '../helpers/http.js';
import { launchBrowser, shot } from './browser.js';
import { startDemo, type RunningDemo } from './demo-process.js';

let demo: RunningDemo;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let context: BrowserContext;

beforeAll(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
  context = browser.context;
});
afterAll(async () => {
  await browser?.close();
  const code = await demo?.stop();
  // Ctrl-C stops both servers and the process ends cleanly.
  expect(code).toBe(0);
});

/** Activate (or Reauthorize) in the store admin, Allow, and return the identity-link popup. */
async function openPopup(admin: Page, action: 'Activate' | 'Reauthorize'): Promise<Page> {
  await admin.goto(`${demo.storeUrl}/admin/integrations`);
  await admin.getByRole('link', { name: action }).first().click();
  await admin.waitForURL(/\/permissions/);
  await admin.screenshot({ path: shot(`store-permissions-${action.toLowerCase()}`) });
  const [popup] = await Promise.all([
    context.waitForEvent('page'),
    admin.getByRole('button', { name: action === 'Activate' ? 'Allow' : 'Reauthorize' }).click(),
  ]);
  await popup.waitForLoadState();
  return popup;
}

describe('the demo, clicked through in Chromium', () => {
  it('activates: popup login, popup closes, store shows Active, dashboard shows the store and its answer', async () => {
    const admin = context.pages()[0] ?? (await context.newPage());
    await admin.goto(`${demo.storeUrl}/admin/integrations`);
    await expect(admin.locator('tbody tr').first().innerText()).resolves.toMatch(
      /Demo connector[\s\S]*Inactive/,
    );
    await admin.screenshot({ path: shot('1-store-grid-inactive') });

    const popup = await openPopup(admin, 'Activate');
    expect(popup.url()).toContain(`${demo.connectorUrl}/magento/identity?oauth_consumer_key=`);
    expect(popup.url()).toContain('success_call_back=');
    await popup.screenshot({ path: shot('2-popup-connector-login') });
    await popup.getByLabel('Email').fill(demo.email);
    await popup.getByLabel('Password').fill(demo.password);
    await Promise.all([
      popup.waitForEvent('close', { timeout: 20000 }),
      popup.getByRole('button', { name: /Log in/ }).click(),
    ]);

    // The store's page reloads its grid once the popup is gone.
    await admin.waitForURL(/\/admin\/integrations$/);
    await expect(admin.locator('tbody tr').first().innerText()).resolves.toMatch(/Active/);
    await admin.screenshot({ path: shot('3-store-grid-active') });

    const dashboard = await context.newPage();
    await dashboard.goto(`${demo.connectorUrl}/`);
    const card = dashboard.locator('section.store').first();
    await expect(card.locator('[data-field="status"]').innerText()).resolves.toBe('active');
    await expect(card.innerText()).resolves.toContain(`by ${demo.email}`);
    for (const step of [
      'callback received',
      'request token',
      'access token',
      'identity link',
      'success callback',
    ]) {
      await expect(card.locator('[data-field="events"]').innerText()).resolves.toContain(step);
    }
    await card.getByRole('button', { name: 'Test connection' }).click();
    await dashboard.locator('.check.ok').waitFor();
    const check = await dashboard.locator('.check.ok').innerText();
    expect(check).toMatch(/Connected — GET \/V1\/store\/storeConfigs in \d+ ms/);
    expect(check).toContain(`"base_url": "${demo.storeUrl}/"`);
    // The demo grants what the connector syncs.
    const resources = await dashboard.locator('.resources').innerText();
    expect(resources).toMatch(/Products: granted[\s\S]*Orders: granted/);
    expect(resources).not.toContain('not granted');
    await dashboard.screenshot({ path: shot('4-dashboard-active'), fullPage: true });
  });

  it('shows the store’s refusal on the dashboard, live, and the store does not turn Active', async () => {
    // The store refuses the next token request, as a store whose consumer key expired does.
    const faults = await adminJson(demo.storeUrl, 'PUT', '/faults', {
      rules: [{ route: '/oauth/token/request', refuseRate: 1, oauthProblem: 'Consumer key has expired' }],
    });
    expect(faults.status).toBe(200);
    const dashboard = await context.newPage();
    await dashboard.goto(`${demo.connectorUrl}/`);

    const admin = context.pages()[0]!;
    const popup = await openPopup(admin, 'Reauthorize');
    // Already logged in from the first activation: one click links the store again.
    await popup.getByRole('button', { name: 'Link this store' }).click();
    await popup.getByText('The activation did not complete').waitFor();
    await expect(popup.locator('.message.error').innerText()).resolves.toContain('Consumer key has expired');
    await popup.screenshot({ path: shot('5-popup-refused') });
    await popup.getByRole('link', { name: /Close and return/ }).click();
    await popup.waitForEvent('close', { timeout: 10000 });

    await admin.waitForURL(/\/admin\/integrations$/);
    const row = await admin.locator('tbody tr').first().innerText();
    expect(row).toMatch(/Inactive/);
    expect(row).not.toMatch(/\bActive\b/);

    // The dashboard page was opened before; its status changes without a reload.
    const card = dashboard.locator('section.store').first();
    await card.locator('.status-failed').waitFor({ timeout: 10000 });
    await expect(card.locator('[data-field="reason"]').innerText()).resolves.toContain(
      'Consumer key has expired',
    );
    await dashboard.screenshot({ path: shot('6-dashboard-failed'), fullPage: true });
  });
});
