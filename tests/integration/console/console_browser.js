// Drives Debian's Chromium (headless, through playwright-core) through the
// Runnel console and prints one JSON line of what each page showed.
//
// usage: node console_browser.js '<config JSON>'
//   {"base": "http://127.0.0.1:PORT", "out": "<screenshot dir>", "user": "default",
//    "password": "..." | null, "stream": "<key>", "ack": {"group": "g", "id": "1-0"},
//    "readonly": {"user": "...", "password": "..."} | null,
//    "moveback": {"source": "<stream>", "id": "<its dead-letter stream's entry>"} | null}
//
// With a password, log in through the console's form first (a wrong
// password first, to see the form's error). For every page: wait until it
// has loaded, read every element marked data-test (rows with their cells),
// save a light and a dark screenshot; then on a phone-sized viewport check
// that no page scrolls sideways; then acknowledge one pending entry with
// the stream page's Ack button, move a dead-lettered entry back from the
// dead-letter stream its source's group links to, and log out. With a read-only user, log
// in as it and read the stream page's action buttons (disabled). Without
// credentials, see what a browser gets.
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

// Logs in through the form; the error the form showed for a wrong
// password first when `wrong` is given.
async function formLogin(page, user, password, wrong) {
  await page.goto(config.base + '/');
  await page.waitForSelector('#login:not([hidden])', { timeout: 10000 });
  let error = null;
  if (wrong) {
    await page.fill('#login-user', user);
    await page.fill('#login-password', wrong);
    await page.click('#login-submit');
    await page.waitForFunction(() => document.getElementById('login-error').textContent !== '', null, { timeout: 10000 });
    error = await page.textContent('#login-error');
  }
  await page.fill('#login-user', user);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await page.waitForSelector('#view[data-loaded="overview"]', { timeout: 10000 });
  return error;
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
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => result.errors.push(String(e)));
    page.on('console', (m) => {
      // the wrong password's 401 and a logged-out poll are expected
      if (m.type() === 'error' && !/401/.test(m.text())) result.errors.push(m.text());
    });
    if (config.password) {
      result.login_error = await formLogin(page, config.user || 'default', config.password, 'not-the-password');
      result.cookies = (await context.cookies()).map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite }));
      result.who = await page.textContent('#who');
    }
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

    // a dead-lettered entry: the source's group links to its dead-letter
    // stream, where one entry is moved back with its Move back button
    if (config.moveback) {
      await open(page, 'stream', '#/stream?key=' + encodeURIComponent(config.moveback.source) + '&db=0');
      result.dlq_source = await page.evaluate(readPage);
      await page.screenshot({ path: path.join(config.out, 'stream-dlq-source.png'), fullPage: true });
      await page.click('a[data-test="group-dead-letter-key"]');
      const entry = `#entries tr[data-test="entry-row"][data-id="${config.moveback.id}"]`;
      await page.waitForSelector(`${entry} button[data-test="moveback"]`, { timeout: 10000 });
      await page.screenshot({ path: path.join(config.out, 'stream-deadletter.png'), fullPage: true });
      page.once('dialog', (d) => d.accept());
      const moved = page.waitForResponse((r) => r.url().includes('/api/action/moveback'));
      await page.click(`${entry} button[data-test="moveback"]`);
      const resp = await moved;
      result.moveback = { status: resp.status(), body: await resp.json() };
      await page.waitForSelector(entry, { state: 'detached', timeout: 10000 });
    }
    if (config.password) {
      await page.click('#logout');
      await page.waitForSelector('#login:not([hidden])', { timeout: 10000 });
      const resp = await context.request.get(config.base + '/api/session', { headers: { 'X-Requested-With': 'test' } });
      result.after_logout = { status: resp.status(), view_hidden: await page.evaluate(() => document.getElementById('view').hidden) };
    }
    await context.close();

    // a read-only user sees the stream's actions disabled
    if (config.readonly) {
      const ro = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      const p = await ro.newPage();
      p.on('pageerror', (e) => result.errors.push(String(e)));
      await formLogin(p, config.readonly.user, config.readonly.password, null);
      await open(p, 'stream', pagesOf(config)[3][1]);
      await p.selectOption('#pgroup', config.ack.group);
      await p.waitForSelector('#pending tr[data-test="pending-row"]', { timeout: 10000 });
      result.readonly = await p.evaluate(() => ({
        who: document.getElementById('who').textContent,
        buttons: [...document.querySelectorAll('#pending button[data-act]')].map((b) => ({
          act: b.dataset.act, disabled: b.disabled, title: b.title })),
        trim: { disabled: document.getElementById('trim').disabled, title: document.getElementById('trim').title },
      }));
      await p.screenshot({ path: path.join(config.out, 'stream-readonly.png'), fullPage: true });
      await ro.close();
    }

    // a browser without credentials sees the login form, and nothing else
    if (config.password) {
      const anon = await browser.newContext();
      const p = await anon.newPage();
      await p.goto(config.base + '/');
      await p.waitForSelector('#login:not([hidden])', { timeout: 10000 });
      await p.screenshot({ path: path.join(config.out, 'login.png'), fullPage: false });
      const resp = await anon.request.get(config.base + '/api/overview');
      result.without_password = { form: true, view_hidden: await p.evaluate(() => document.getElementById('view').hidden),
        status: resp.status(), challenge: resp.headers()['www-authenticate'] || null };
      await anon.close();
    }
  } finally {
    await browser.close();
  }
  result.ms = Date.now() - started;
  console.log(JSON.stringify(result));
}

main().catch((e) => { console.error(e); process.exit(1); });
