// A cluster client that keeps writing while the test kills a primary:
// `node cluster_failover_client.js ioredis <port> <seconds>` writes SET {apple}:<i>
// every 10 ms through one client made once (it must find the new primary by itself), and prints one
// JSON line at the end: writes that succeeded, the longest time between two successes, and whether
// writes succeeded again in the last second.
const { Cluster } = require("ioredis");

async function connect(lib, port) {
  if (lib !== "ioredis") throw new Error(`unknown client ${lib}`);
  const c = new Cluster([{ host: "127.0.0.1", port }], { clusterRetryStrategy: () => 100 });
  return { set: (k, v) => c.set(k, v), quit: async () => c.disconnect() };
}

async function main(lib, port, seconds) {
  const client = await connect(lib, port);
  const start = Date.now();
  let ok = 0, errors = 0, last = Date.now(), longest = 0, i = 0;
  while (Date.now() - start < seconds * 1000) {
    try {
      await Promise.race([client.set(`{apple}:${i}`, String(i)),
                          new Promise((_, no) => setTimeout(() => no(new Error("timeout")), 1000))]);
      const now = Date.now();
      longest = Math.max(longest, now - last);
      last = now;
      ok++;
      if (ok === 20) console.log(JSON.stringify({ running: true }));
    } catch (e) {
      errors++;
    }
    i++;
    await new Promise((r) => setTimeout(r, 10));
  }
  await client.quit().catch(() => {});
  return { ok, errors, longest_gap_ms: longest, recovered: Date.now() - last < 1000 };
}

main(process.argv[2], Number(process.argv[3]), Number(process.argv[4]))
  .then((out) => {
    console.log(JSON.stringify(out));
    process.exit(0);
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
