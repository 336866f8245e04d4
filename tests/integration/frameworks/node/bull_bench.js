// Bull 4 and bee-queue throughput for bench/frameworks.py, as bullmq_bench.js measures BullMQ:
// `node bull_bench.js <bull|bee> enqueue <port> <n>` adds n jobs one by one and prints the seconds
// the adds took; `node bull_bench.js <bull|bee> work <port> <n>` processes them with concurrency 32
// (BullMQ's 4 workers x 8) and prints the first and last completion times (ms since the epoch).
'use strict';

const [lib, phase, port, count] = process.argv.slice(2);
const n = Number(count);
const redis = { host: '127.0.0.1', port: Number(port) };
const Queue = require(lib === 'bee' ? 'bee-queue' : 'bull');

function makeQueue(worker) {
  if (lib === 'bee') return new Queue('bench', { redis, isWorker: worker, removeOnSuccess: false });
  return new Queue('bench', { redis });
}

async function enqueue() {
  const queue = makeQueue(false);
  if (lib === 'bee') await queue.ready();
  else await queue.isReady();
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    if (lib === 'bee') await queue.createJob({ i }).save();
    else await queue.add({ i }, { removeOnComplete: false });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await queue.close();
  return { seconds };
}

async function work() {
  const queue = makeQueue(true);
  const stamps = [];
  await new Promise((resolve) => {
    const handler = async () => {
      stamps.push(Date.now());
      if (stamps.length === n) setImmediate(resolve);
      return null;
    };
    if (lib === 'bee') queue.process(32, handler);
    else queue.process(32, handler);
  });
  await queue.close();
  return { first: Math.min(...stamps), last: Math.max(...stamps) };
}

(phase === 'enqueue' ? enqueue : work)()
  .then((out) => {
    process.stdout.write(JSON.stringify(out) + '\n');
    process.exit(0);
  })
  .catch((e) => {
    process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
    process.exit(1);
  });
