// What every scenario file shares: `node <file> <scenario> <port>` runs
// one scenario, closes what it opened, prints one JSON line of what it saw
// and exits 0, or prints the error and exits 1.
'use strict';

const closing = [];

// Remembers something to close (a queue, a worker) once the scenario ends.
function track(thing) {
  closing.push(thing);
  return thing;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Runs the scenario named on the command line; connect(port) first sets
// up whatever the scenarios connect with.
function run(scenarios, connect) {
  const [scenario, port] = process.argv.slice(2);
  (async () => {
    const body = scenarios[scenario];
    if (!body) throw new Error(`unknown scenario ${scenario}`);
    connect(Number(port));
    const result = await body();
    for (const thing of closing.reverse()) await thing.close();
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exit(0);
  })().catch((e) => {
    process.stderr.write(`${scenario} failed: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  });
}

module.exports = { track, sleep, run };
