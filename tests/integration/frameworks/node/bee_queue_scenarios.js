// bee-queue scenarios that tests/integration/test_bee_queue.py runs against
// a Runnel server: `node bee_queue_scenarios.js <scenario> <port>`, through
// bee-queue's public API only (see harness.js).
'use strict';
const Queue = require('bee-queue');
const { track, sleep, run } = require('./harness');

let redis;

function queue(name, opts = {}) {
  return track(new Queue(name, { redis, ...opts }));
}

// Resolves once `count` jobs of the worker queue q succeeded.
function successes(q, count) {
  const done = [];
  return new Promise((resolve, reject) => {
    q.on('error', reject);
    q.on('succeeded', (job, result) => {
      done.push({ id: job.id, result, at: Date.now() });
      if (done.length === count) resolve(done);
    });
  });
}

const scenarios = {
  // save and saveAll, concurrent processing, the health counts.
  async jobs() {
    const q = queue('jobs', { removeOnSuccess: false });
    const one = await q.createJob({ n: 1 }).save();
    const errors = await q.saveAll([2, 3, 4, 5].map((n) => q.createJob({ n })));
    const waiting = (await q.checkHealth()).waiting;
    const done = successes(q, 5);
    q.process(3, async (job) => job.data.n * 2);
    const results = (await done).map((d) => d.result).sort((a, b) => a - b);
    const fetched = await q.getJob(one.id);
    const health = await q.checkHealth();
    return { firstId: one.id, saveErrors: errors.size, waiting, results, status: fetched.status,
      health: { waiting: health.waiting, active: health.active, succeeded: health.succeeded,
        failed: health.failed, newestJob: health.newestJob } };
  },

  // A job delayed until a time runs once it is due.
  async delayed() {
    const q = queue('delayed', { activateDelayedJobs: true });
    const added = Date.now();
    await q.createJob({}).delayUntil(added + 1500).save();
    const delayed = (await q.checkHealth()).delayed;
    const done = successes(q, 1);
    q.process(async () => 'ran');
    const [d] = await done;
    return { delayed, waited: d.at - added };
  },

  // Retries with a fixed backoff; a job out of retries fails. The producer
  // hears of it through pub/sub (job events).
  async retries() {
    const worker = queue('retry', { activateDelayedJobs: true });
    const producer = queue('retry', { isWorker: false });
    const tries = { flaky: [], doomed: [] };
    worker.process(2, async (job) => {
      tries[job.data.kind].push(Date.now());
      if (job.data.kind === 'doomed') throw new Error(`boom ${tries.doomed.length}`);
      if (tries.flaky.length < 3) throw new Error('not yet');
      return 'third time';
    });
    const outcome = (job) => new Promise((resolve) => {
      const retrying = [];
      job.on('retrying', (e) => retrying.push(e.message));
      job.on('succeeded', (result) => resolve({ result, retrying }));
      job.on('failed', (e) => resolve({ failed: e.message, retrying }));
    });
    const flaky = await producer.createJob({ kind: 'flaky' }).retries(2).backoff('fixed', 200).save();
    const doomed = await producer.createJob({ kind: 'doomed' }).retries(1).save();
    const [f, d] = await Promise.all([outcome(flaky), outcome(doomed)]);
    const t = tries.flaky;
    return { flaky: f, doomed: d, gaps: [t[1] - t[0], t[2] - t[1]], doomedTries: tries.doomed.length };
  },

  // Progress and the result reach the producer's job object.
  async events() {
    const worker = queue('events');
    const producer = queue('events', { isWorker: false });
    worker.process(async (job) => { job.reportProgress(50); await sleep(50); return 'fine'; });
    await sleep(100);
    const job = await producer.createJob({ x: 1 }).save();
    const seen = [];
    await new Promise((resolve) => {
      job.on('progress', (p) => seen.push(['progress', p]));
      job.on('succeeded', (r) => { seen.push(['succeeded', r]); resolve(); });
    });
    return { seen };
  },

  // A worker process that dies holding a job: another finds it stalled.
  async stall_add() {
    const q = queue('stall', { isWorker: false });
    const job = await q.createJob({ answer: 42 }).save();
    return { id: job.id };
  },

  async stall_hang() {
    const q = new Queue('stall', { redis, stallInterval: 500 });
    q.process(async (job) => {
      process.stdout.write(JSON.stringify({ active: job.id }) + '\n');
      await new Promise(() => {}); // never returns: the test kills this process
    });
    await new Promise(() => {});
  },

  async stall_recover() {
    const q = queue('stall', { stallInterval: 500 });
    const stalled = [];
    q.on('stalled', (id) => stalled.push(id));
    const done = successes(q, 1);
    q.process(async (job) => job.data.answer);
    q.checkStalledJobs(500);
    const [d] = await done;
    return { id: d.id, result: d.result, stalled };
  },
};

run(scenarios, (port) => {
  redis = { host: '127.0.0.1', port };
});
