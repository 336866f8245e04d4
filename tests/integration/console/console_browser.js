// Drives Debian's Chromium (headless, through playwright-core) through the
// Runnel console and prints one JSON line of what each page showed.
//
// usage: node console_browser.js '<config JSON>'
//   {"base": "http://127.0.0.1:PORT", "out": "<screenshot dir>", "user": "default",
//    "password": "..." | null, "stream": "<key>", "ack": {"group": "g", "id": "1-0"}}
//
// For every page: wait until it has loaded, read every element marked
// data-test (rows with their cells), save a light and a dark screenshot;
// then on a phone-sized viewport check that no page scrolls sideways; then
// acknowledge one pending entry with the stream page's Ack button; with a
// password, check that a browser without it gets 401.
'use strict';
const path = require('path');
const { chromium } = require('playwright-core');

const config = JSON.parse(process.argv[2]);

function pagesOf(cfg) {
  return [
    ['overview', '#/overview'],
    ['queues', '#/queues'],
    ['streams', '#/streams'],
    ['stream', '#/stream?key=' + encodeURIComponent(cfg.stream) + '&db=0'],
    ['pubsub', '#/pubsub'],
    ['clients', '#/clients'],
    ['slowlog', '#/slowlog'],
    ['topology', '#/topology'],
  ];
}

// Every data-test element: rows (data-test ending in -row) with their
// data-* attributes and the data-test cells inside them; others by name.
function readPage() {
  const rows = [...document.querySelectorAll('[data-test$="-row"]')].map((r) => {
    const cells = {};
    r.querySelectorAll('[data-test]').forEach((c) => { cells[c.dataset.test] = c.textContent.trim(); });
    return { kind: r.dataset.test, attrs: { ...r.dataset }, cells };
  });
  const values = {};
  document.querySelectorAll('[data-test]').forEach((e) => {
    if (!e.dataset.test.endsWith('-row') && !e.closest('[data-test$="-row"]')) values[e.dataset.test] = e.textContent.trim();
  });
  return { rows, values };
}

async function open(page, name, hash) {
  await page.goto(config.base + '/' + hash);
  await page.waitForSelector('#view[data-loaded="' + name + '"]', { timeout: 10000 });
  if (name === 'stream') {
    await page.waitForSelector('#pending [data-test="pending-total"]', { timeout: 10000 });
    await page.waitForSelector('#entries table', { timeout: 10000 });
  }
}

async function setTheme(page, theme) {
  const now = await page.evaluate(() => document.documentElement.getAttribute('data-theme'));
  if (now !== theme) await page.click('#theme');
}

async function main() {
  const started = Date.now();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const result = { pages: {}, phone: {}, errors: [] };
  try {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 860 },
      httpCredentials: config.password ? { username: config.user || 'default', password: config.password } : undefined,
    });
    const page = await context.newPage();
    page.on('pageerror', (e) => result.errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') result.errors.push(m.text()); });
    for (const [name, hash] of pagesOf(config)) {
      await open(page, name, hash);
      result.pages[name] = await page.evaluate(readPage);
      for (const theme of ['light', 'dark']) {
        await setTheme(page, theme);
        await page.screenshot({ path: path.join(config.out, `${name}-${theme}.png`), fullPage: true });
      }
      await setTheme(page, 'light');
    }

    // phone: nothing wider than the screen
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [name, hash] of pagesOf(config)) {
      await open(page, name, hash);
      result.phone[name] = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth }));
      if (name === 'overview' || name === 'stream') {
        await page.screenshot({ path: path.join(config.out, `${name}-phone.png`), fullPage: false });
      }
    }

    // the action: acknowledge one pending entry with its Ack button
    await page.setViewportSize({ width: 1280, height: 860 });
    await open(page, 'stream', pagesOf(config)[3][1]);
    await page.selectOption('#pgroup', config.ack.group);
    const row = `#pending tr[data-test="pending-row"][data-id="${config.ack.id}"]`;
    await page.waitForSelector(row, { timeout: 10000 });
    const posted = page.waitForResponse((r) => r.url().includes('/api/action/ack'));
    await page.click(`${row} button[data-test="ack"]`);
    const resp = await posted;
    result.ack = { status: resp.status(), body: await resp.json() };
    await page.waitForSelector(row, { state: 'detached', timeout: 10000 });
    result.after_ack = await page.evaluate(readPage);
    await context.close();

    // a browser without the password is refused before anything is shown
    if (config.password) {
      // (headless Chromium answers the Basic challenge by failing the navigation)
      const anon = await browser.newContext();
      let navigation = 'loaded';
      try {
        await (await anon.newPage()).goto(config.base + '/');
      } catch (e) {
        navigation = String(e.message).split('\n')[0];
      }
      const resp = await anon.request.get(config.base + '/');
      result.without_password = { navigation, status: resp.status(),
        challenge: resp.headers()['www-authenticate'] || null };
      await anon.close();
    }
  } finally {
    await browser.close();
  }
  result.ms = Date.now() - started;
  console.log(JSON.stringify(result));
}

main().catch((e) => { console.error(e); process.exit(1); });
