// bench/console_watch.js: keeps the Runnel console open in Debian's headless
// Chromium (playwright-core from tests/integration/console) while a benchmark
// runs — the page polls the server every 2 seconds as it does for a user —
// moving to the next page every 5 seconds (overview, queues, streams, pub/sub,
// clients, slow log, topology, one stream), until stdin closes.
// usage: node bench/console_watch.js http://127.0.0.1:PORT [stream-key]
'use strict';
const path = require('path');
const { chromium } = require(path.join(__dirname, '..', 'tests', 'integration', 'console', 'node_modules',
  'playwright-core'));

const base = process.argv[2];
const stream = process.argv[3] || 'stream:0';
const pages = ['overview', 'queues', 'streams', 'pubsub', 'clients', 'slowlog', 'topology',
  'stream?key=' + encodeURIComponent(stream)];

(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const page = await browser.newPage();
  let stop = false;
  process.stdin.on('end', () => { stop = true; });
  process.stdin.resume();
  await page.goto(base + '/#/overview');
  await page.waitForSelector('#view[data-loaded]');
  console.log('ready');
  let i = 0;
  while (!stop) {
    await new Promise((r) => setTimeout(r, 5000));
    if (stop) break;
    i = (i + 1) % pages.length;
    await page.goto(base + '/#/' + pages[i]);
  }
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
