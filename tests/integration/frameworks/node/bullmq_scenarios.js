// BullMQ scenarios that tests/integration/test_bullmq.py runs against a
// Runnel server: `node bullmq_scenarios.js <scenario> <port>`, through
// BullMQ's public API only (see harness.js).
'use strict';
const { Queue, Worker, QueueEvents, FlowProducer } = require('bullmq');
const { track, sleep, run } = require('./harness');

let connection;

// Resolves once `count` jobs of `worker` completed; their results in order.
function completions(worker, count) {
  const done = [];
  return new Promise((resolve, reject) => {
    worker.on('error', reject);
    worker.on('completed', (job, result) => {
      done.push({ id: job.id, name: job.name, result, at: Date.now() });
      if (done.length === count) resolve(done);
    });
  });
}

const scenarios = {
  // add, addBulk, a worker running them all, the counts afterwards.
  async jobs() {
    const queue = track(new Queue('jobs', { connection }));
    const one = await queue.add('double', { n: 1 });
    const bulk = await queue.addBulk([2, 3, 4, 5].map((n) => ({ name: 'double', data: { n } })));
    const waiting = await queue.getWaitingCount();
    const worker = track(new Worker('jobs', async (job) => job.data.n * 2, { connection }));
    const done = await completions(worker, 5);
    const fetched = await queue.getJob(one.id);
    return {
      ids: [one.id, ...bulk.map((j) => j.id)],
      waiting,
      results: done.map((d) => d.result).sort((a, b) => a - b),
      returnvalue: fetched.returnvalue,
      counts: await queue.getJobCounts('completed', 'waiting', 'active', 'failed'),
    };
  },

  // A delayed job waits in the delayed set, then runs once due.
  async delayed() {
    const queue = track(new Queue('delayed', { connection }));
    const added = Date.now();
    const job = await queue.add('later', {}, { delay: 1500 });
    const state = await job.getState();
    const worker = track(new Worker('delayed', async () => 'ran', { connection }));
    const [done] = await completions(worker, 1);
    return { state, waited: done.at - added };
  },

  // Jobs added before any worker run by priority (1 first), FIFO within one.
  async priorities() {
    const queue = track(new Queue('prio', { connection }));
    const plan = [['p5a', 5], ['p1a', 1], ['p3', 3], ['p1b', 1], ['p5b', 5], ['p2', 2]];
    for (const [name, priority] of plan) await queue.add(name, {}, { priority });
    const prioritized = await queue.getPrioritizedCount();
    const worker = track(new Worker('prio', async () => null, { connection, concurrency: 1 }));
    const done = await completions(worker, plan.length);
    return { prioritized, order: done.map((d) => d.name) };
  },

  // A job failing twice succeeds on its third attempt, after exponential
  // backoff; one that always fails ends failed with its reason.
  async retries() {
    const queue = track(new Queue('retry', { connection }));
    const events = track(new QueueEvents('retry', { connection }));
    await events.waitUntilReady();
    const failures = [];
    events.on('failed', ({ jobId, failedReason }) => failures.push([jobId, failedReason]));
    const flaky = await queue.add('flaky', {}, { attempts: 3, backoff: { type: 'exponential', delay: 200 } });
    const doomed = await queue.add('doomed', {}, { attempts: 2, backoff: { type: 'fixed', delay: 100 } });
    const tries = [];
    const worker = track(new Worker('retry', async (job) => {
      tries.push([job.name, Date.now()]);
      if (job.name === 'doomed' || job.attemptsMade < 2) throw new Error(`boom ${job.attemptsMade}`);
      return 'third time';
    }, { connection }));
    worker.on('error', () => {});
    const flakyDone = await job_finished(queue, flaky.id);
    const doomedDone = await job_finished(queue, doomed.id);
    const flakyTimes = tries.filter((t) => t[0] === 'flaky').map((t) => t[1]);
    return {
      flaky: { state: flakyDone.state, attemptsMade: flakyDone.job.attemptsMade, returnvalue: flakyDone.job.returnvalue,
        gaps: flakyTimes.slice(1).map((t, i) => t - flakyTimes[i]) },
      doomed: { state: doomedDone.state, attemptsMade: doomedDone.job.attemptsMade, reason: doomedDone.job.failedReason },
      failedEvents: failures.length,
    };
  },

  // A flow: the parent runs after its children and reads their results.
  async flow() {
    const flows = track(new FlowProducer({ connection }));
    const tree = await flows.add({
      name: 'total', queueName: 'parents', data: {},
      children: [1, 2, 3].map((n) => ({ name: 'part', queueName: 'parts', data: { n } })),
    });
    const parentState = await tree.job.getState();
    const order = [];
    const parts = track(new Worker('parts', async (job) => { order.push('part'); return job.data.n * 10; }, { connection }));
    const parents = track(new Worker('parents', async (job) => {
      order.push('parent');
      const values = await job.getChildrenValues();
      return Object.values(values).reduce((a, b) => a + b, 0);
    }, { connection }));
    parts.on('error', () => {});
    const [done] = await completions(parents, 1);
    return { parentState, children: tree.children.length, order, total: done.result };
  },

  // A worker limited to 2 jobs a second takes about 2 s for 6 jobs.
  async rate_limit() {
    const queue = track(new Queue('limited', { connection }));
    await queue.addBulk([1, 2, 3, 4, 5, 6].map((n) => ({ name: 'tick', data: { n } })));
    const start = Date.now();
    const worker = track(new Worker('limited', async () => null,
      { connection, concurrency: 4, limiter: { max: 2, duration: 1000 } }));
    const done = await completions(worker, 6);
    return { elapsed: done[5].at - start, firstSecond: done.filter((d) => d.at - start < 900).length };
  },

  // QueueEvents sees a job's life: added, waiting, active, progress, completed.
  async events() {
    const queue = track(new Queue('watched', { connection }));
    const events = track(new QueueEvents('watched', { connection, lastEventId: '0-0' }));
    await events.waitUntilReady();
    const seen = [];
    for (const name of ['added', 'waiting', 'active', 'progress', 'completed'])
      events.on(name, (args) => seen.push([name, args.jobId, args.data ?? args.returnvalue ?? null]));
    const job = await queue.add('watch', {});
    const worker = track(new Worker('watched', async (j) => { await j.updateProgress(50); return 'fine'; },
      { connection }));
    await completions(worker, 1);
    const finished = await job.waitUntilFinished(events, 5000);
    for (let i = 0; i < 50 && !seen.some((s) => s[0] === 'completed'); i++) await sleep(50);
    return { jobId: job.id, seen, finished };
  },

  // A job scheduler (repeatable job) every 300 ms runs again and again.
  async repeat() {
    const queue = track(new Queue('repeat', { connection }));
    await queue.upsertJobScheduler('every-300', { every: 300 }, { name: 'beat', data: {} });
    const worker = track(new Worker('repeat', async () => 'beat', { connection }));
    const done = await completions(worker, 3);
    const schedulers = await queue.getJobSchedulers();
    await queue.removeJobScheduler('every-300');
    return { runs: done.length, schedulers: schedulers.map((s) => s.key || s.id) };
  },

  // Stalled-job recovery, in three processes: stall_add adds a job;
  // stall_hang takes it, says so and never finishes (the test kills it);
  // stall_recover waits for BullMQ to see it stalled and run it again.
  async stall_add() {
    const queue = track(new Queue('stall', { connection }));
    const job = await queue.add('stuck', { n: 7 });
    return { id: job.id };
  },

  async stall_hang() {
    const worker = new Worker('stall', async (job) => {
      process.stdout.write(JSON.stringify({ active: job.id }) + '\n');
      await new Promise(() => {});
    }, { connection, lockDuration: 2000, stalledInterval: 1000 });
    await new Promise(() => {});
    return worker;
  },

  async stall_recover() {
    const queue = track(new Queue('stall', { connection }));
    const events = track(new QueueEvents('stall', { connection }));
    await events.waitUntilReady();
    const stalled = [];
    events.on('stalled', ({ jobId }) => stalled.push(jobId));
    const worker = track(new Worker('stall', async (job) => job.data.n * 6,
      { connection, lockDuration: 2000, stalledInterval: 1000 }));
    worker.on('stalled', (jobId) => stalled.push(jobId));
    const [done] = await completions(worker, 1);
    const job = await queue.getJob(done.id);
    return { id: done.id, result: done.result, stalled, attemptsStarted: job.attemptsStarted,
      stalledCounter: job.stalledCounter };
  },
};

// The job once completed or failed for good.
async function job_finished(queue, id) {
  for (;;) {
    const job = await queue.getJob(id);
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') return { state, job };
    await sleep(50);
  }
}

run(scenarios, (port) => {
  connection = { host: '127.0.0.1', port };
});
