#!/usr/bin/env node
// The baseline for `npm run bench`: a bare @ngrok/ngrok forward() with the same options
// devtunnel share sends (ingress, CA, host, traffic policy, session metadata), and nothing
// else. Options arrive in the environment (the authtoken must not be on a command line).
import ngrok from '@ngrok/ngrok';

const e = process.env;
const listener = await ngrok.forward({
  addr: e.BENCH_ADDR,
  authtoken: e.BENCH_AUTHTOKEN,
  server_addr: e.BENCH_SERVER_ADDR,
  session_ca_cert: e.BENCH_CA_PEM,
  domain: e.BENCH_DOMAIN,
  traffic_policy: e.BENCH_TRAFFIC_POLICY,
  session_metadata: e.BENCH_SESSION_METADATA,
});
process.stdout.write(`${JSON.stringify({ event: 'ready', url: listener.url() })}\n`);
const keepAlive = setInterval(() => undefined, 1 << 30);
process.on('SIGINT', async () => {
  clearInterval(keepAlive);
  await listener.close();
  process.exit(130);
});
