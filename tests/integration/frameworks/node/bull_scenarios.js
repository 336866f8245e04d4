// Bull 4 scenarios that tests/integration/test_bull.py runs against a
// Runnel server: `node bull_scenarios.js <scenario> <port>`, through Bull's
// public API only (see harness.js).
'use strict';
const Queue = require('bull');
const { track, sleep, run } = require('./harness');

let redis;

function queue(name, opts = {}) {
  return track(new Queue(name, { redis, ...opts }));
}

// Resolves once `count` jobs of q completed: {id, name, result, at} each.
function completions(q, count) {
  const done = [];
  return new Promise((resolve, reject) => {
    q.on('error', reject);
    q.on('completed', (job, result) => {
      done.push({ id: String(job.id), name: job.name, result, at: Date.now() });
      if (done.length === count) resolve(done);
    });
  });
}

const scenarios = {
  // add, addBulk, concurrent processing, counts and a finished job's value.
  async jobs() {
    const q = queue('jobs');
    const one = await q.add('double', { n: 1 });
    const bulk = await q.addBulk([2, 3, 4, 5].map((n) => ({ name: 'double', data: { n } })));
    const waiting = await q.getWaitingCount();
    const done = completions(q, 5);
    q.process('double', 3, async (job) => job.data.n * 2);
    const results = (await done).map((d) => d.result).sort((a, b) => a - b);
    const fetched = await q.getJob(one.id);
    return { ids: [one.id, ...bulk.map((j) => j.id)].map(String), waiting, results,
      returnvalue: fetched.returnvalue, counts: await q.getJobCounts() };
  },

  // A delayed job waits in the delayed set, then runs once due.
  async delayed() {
    const q = queue('delayed');
    const added = Date.now();
    const job = await q.add({}, { delay: 1500 });
    const state = await job.getState();
    const done = completions(q, 1);
    q.process(async () => 'ran');
    const [d] = await done;
    return { state, waited: d.at - added };
  },

  // Lower numbers first; equal priorities in insertion order.
  async priorities() {
    const q = queue('prio');
    await q.pause();
    for (const [name, priority] of [['p5a', 5], ['p1a', 1], ['p3', 3], ['p1b', 1], ['p2', 2], ['p5b', 5]]) {
      await q.add(name, {}, { priority });
    }
    const order = [];
    const done = completions(q, 6);
    q.process('*', 1, async (job) => { order.push(job.name); });
    await q.resume();
    await done;
    return { order };
  },

  // Exponential backoff between attempts; a job out of attempts fails.
  async retries() {
    const q = queue('retry');
    const tries = {};
    const failed = [];
    q.on('failed', (job, e) => failed.push([job.name, job.attemptsMade, e.message]));
    const flaky = await q.add('flaky', {}, { attempts: 3, backoff: { type: 'exponential', delay: 200 } });
    const doomed = await q.add('doomed', {}, { attempts: 2, backoff: 100 });
    q.process('*', 2, async (job) => {
      (tries[job.name] = tries[job.name] || []).push(Date.now());
      if (job.name === 'doomed') throw new Error(`boom ${tries.doomed.length}`);
      if (tries.flaky.length < 3) throw new Error('not yet');
      return 'third time';
    });
    const end = async (id) => {
      for (;;) {
        const job = await q.getJob(id);
        const state = await job.getState();
        if (state === 'completed' || state === 'failed') return { state, job };
        await sleep(50);
      }
    };
    const f = await end(flaky.id);
    const d = await end(doomed.id);
    const t = tries.flaky;
    return {
      flaky: { state: f.state, attemptsMade: f.job.attemptsMade, returnvalue: f.job.returnvalue,
        gaps: [t[1] - t[0], t[2] - t[1]] },
      doomed: { state: d.state, attemptsMade: d.job.attemptsMade, reason: d.job.failedReason },
      failedEvents: failed.length,
    };
  },

  // At most 2 jobs a second.
  async rate_limit() {
    const q = queue('limited', { limiter: { max: 2, duration: 1000 } });
    await q.addBulk([1, 2, 3, 4, 5].map((n) => ({ data: { n } })));
    const started = Date.now();
    const done = completions(q, 5);
    q.process(async () => null);
    const all = await done;
    return { firstSecond: all.filter((d) => d.at - started < 1000).length,
      elapsed: all[all.length - 1].at - started };
  },

  // Events across processes go through pub/sub: global:* on another queue
  // object; progress on the worker's own.
  async events() {
    const q = queue('events');
    const watcher = queue('events');
    const seen = [];
    await watcher.isReady();
    const finished = new Promise((resolve) => {
      watcher.on('global:progress', (id, progress) => seen.push(['progress', String(id), progress]));
      watcher.on('global:completed', (id, result) => {
        seen.push(['completed', String(id), JSON.parse(result)]);
        resolve();
      });
    });
    await sleep(200); // the watcher's subscriptions are in place
    const job = await q.add({ x: 1 });
    q.process(async (j) => { await j.progress(50); return 'fine'; });
    await finished;
    return { jobId: String(job.id), seen };
  },

  // A repeatable job every 300 ms runs again and again.
  async repeat() {
    const q = queue('repeat');
    await q.add('tick', {}, { repeat: { every: 300 }, jobId: 'ticker' });
    let runs = 0;
    const three = new Promise((resolve) => {
      q.process('tick', async () => { runs += 1; if (runs === 3) resolve(); });
    });
    await three;
    const repeatable = await q.getRepeatableJobs();
    await q.removeRepeatable('tick', { every: 300, jobId: 'ticker' });
    return { runs, repeatable: repeatable.map((r) => r.every), left: (await q.getRepeatableJobs()).length };
  },

  // A worker process that dies holding a job: another finds it stalled.
  async stall_add() {
    const q = queue('stall', { settings: { lockDuration: 1000, stalledInterval: 500 } });
    const job = await q.add({ answer: 42 }, { attempts: 2 });
    return { id: String(job.id) };
  },

  async stall_hang() {
    const q = new Queue('stall', { redis, settings: { lockDuration: 1000, stalledInterval: 500 } });
    q.process(async (job) => {
      process.stdout.write(JSON.stringify({ active: String(job.id) }) + '\n');
      await new Promise(() => {}); // never returns: the test kills this process
    });
    await new Promise(() => {});
  },

  async stall_recover() {
    const q = queue('stall', { settings: { lockDuration: 1000, stalledInterval: 500 } });
    const stalled = [];
    q.on('stalled', (job) => stalled.push(String(job.id)));
    const done = completions(q, 1);
    q.process(async (job) => job.data.answer);
    const [d] = await done;
    return { id: d.id, result: d.result, stalled };
  },
};

run(scenarios, (port) => {
  redis = { host: '127.0.0.1', port };
});
