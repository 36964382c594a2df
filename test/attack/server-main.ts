/**
 * Test servers that must not share the generator's event loop (a server freezing its own loop in
 * the test process would freeze the generator too). Run as a child process:
 *   node server-main.js freeze S P   responds at once, but blocks its event loop S ms every P ms
 *   node server-main.js delay D      responds after D ms
 *   node server-main.js hello        responds at once
 * Prints the port on stdout, exits when stdin closes (so a dying test never leaves it running).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const [kind = 'hello', a = '0', b = '0'] = process.argv.slice(2);
const busyWait = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* a GC pause, a synchronous hot loop */
  }
};
const server = createServer((req, res) => {
  req.resume();
  const respond = () => res.end('ok\n');
  if (kind === 'delay') setTimeout(respond, Number(a));
  else respond();
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
  if (kind === 'freeze') setInterval(() => busyWait(Number(a)), Number(b));
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
