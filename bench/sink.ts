/** A hook receiver for benchmarks: counts deliveries, answers 200. GET /count reports. */
let count = 0;
let last = 0;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    if (req.method === "GET") return Response.json({ count, last });
    await req.arrayBuffer();
    count++;
    last = Date.now();
    return new Response("ok");
  },
});
console.log(JSON.stringify({ listen: `127.0.0.1:${server.port}` }));
