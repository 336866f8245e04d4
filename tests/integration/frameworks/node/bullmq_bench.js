// BullMQ throughput for bench/frameworks.py: `node bullmq_bench.js enqueue <port> <n>` adds n jobs
// one by one and prints the seconds the adds took; `node bullmq_bench.js work <port> <n>` runs
// 4 workers with concurrency 8 until n jobs completed and prints the first and last completion
// times (ms since the epoch).
'use strict';
const { Queue, Worker } = require('bullmq');

async function enqueue(connection, n) {
  const queue = new Queue('bench', { connection });
  await queue.waitUntilReady();
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await queue.add('noop', { i }, { removeOnComplete: false });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await queue.close();
  return { seconds };
}

async function work(connection, n) {
  const stamps = [];
  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));
  const workers = [];
  for (let w = 0; w < 4; w++) {
    const worker = new Worker('bench', async () => null, { connection, concurrency: 8 });
    worker.on('completed', () => {
      stamps.push(Date.now());
      if (stamps.length === n) resolveDone();
    });
    workers.push(worker);
  }
  await done;
  await Promise.all(workers.map((w) => w.close()));
  return { first: Math.min(...stamps), last: Math.max(...stamps) };
}

const [phase, port, n] = process.argv.slice(2);
const connection = { host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: null };
(phase === 'enqueue' ? enqueue : work)(connection, Number(n))
  .then((out) => {
    process.stdout.write(JSON.stringify(out) + '\n');
    process.exit(0);
  })
  .catch((e) => {
    process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
    process.exit(1);
  });
