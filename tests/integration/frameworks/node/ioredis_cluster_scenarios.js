// ioredis's Cluster client against a Runnel cluster: `node ioredis_cluster_scenarios.js <scenario> <port>`
// prints one JSON line with what it saw.
const { Cluster } = require("ioredis");

async function readwrite(port) {
  const cluster = new Cluster([{ host: "127.0.0.1", port }]);
  for (let i = 0; i < 500; i++) await cluster.set(`io:${i}`, String(i));
  let ok = 0;
  for (let i = 0; i < 500; i++) if ((await cluster.get(`io:${i}`)) === String(i)) ok++;
  const pipeline = cluster.pipeline();
  for (let i = 0; i < 50; i++) pipeline.incr(`{tag}:n${i}`);
  await pipeline.exec();
  const nodes = cluster.nodes("master").length;
  await cluster.quit();
  return { ok, nodes };
}

async function pubsub(port) {
  const sub = new Cluster([{ host: "127.0.0.1", port }]);
  const pub = new Cluster([{ host: "127.0.0.1", port }]);
  const got = [];
  sub.on("message", (channel, message) => got.push([channel, message]));
  await sub.subscribe("news");
  await new Promise((r) => setTimeout(r, 200));
  await pub.publish("news", "hello");
  await new Promise((r) => setTimeout(r, 500));
  await sub.quit();
  await pub.quit();
  return { got };
}

const scenarios = { readwrite, pubsub };
scenarios[process.argv[2]](Number(process.argv[3]))
  .then((out) => {
    console.log(JSON.stringify(out));
    process.exit(0);
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
