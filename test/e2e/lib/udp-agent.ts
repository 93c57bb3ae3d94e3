// The socket end of the test DHCP client. Node cannot enter a network namespace itself, so the test
// runs this small process with `ip netns exec NS node --import tsx udp-agent.ts BIND_ADDR PORT` and
// talks to it over stdio, one JSON object per line:
//   stdin:  {"t":"send","to":"10.77.0.1","port":67,"b64":"..."}
//   stdout: {"t":"ready"} once bound, {"t":"rx","from":"10.77.0.1","port":67,"b64":"...","at":ms},
//           {"t":"error","message":"..."}
// It only moves bytes: encoding and decoding happen in the test process with src/wire.

import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';

const [bindAddress = '0.0.0.0', portText = '67'] = process.argv.slice(2);
const port = Number(portText);

const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const socket = createSocket({ type: 'udp4', reuseAddr: false });
socket.on('error', (err) => {
  out({ t: 'error', message: err.message });
  process.exit(1);
});
socket.on('message', (msg, rinfo) => {
  out({ t: 'rx', from: rinfo.address, port: rinfo.port, b64: msg.toString('base64'), at: Date.now() });
});
socket.bind({ address: bindAddress, port, exclusive: true }, () => {
  socket.setBroadcast(true);
  out({ t: 'ready' });
});

interface SendCommand {
  t: 'send';
  to: string;
  port: number;
  b64: string;
}

const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  if (line.trim() === '') return;
  const cmd = JSON.parse(line) as SendCommand;
  if (cmd.t !== 'send') {
    out({ t: 'error', message: `unknown command ${String((cmd as { t: unknown }).t)}` });
    return;
  }
  socket.send(Buffer.from(cmd.b64, 'base64'), cmd.port, cmd.to, (err) => {
    if (err) out({ t: 'error', message: `send to ${cmd.to}:${cmd.port}: ${err.message}` });
  });
});
// The test closed our stdin (or died): stop, so no process is left in the namespace.
input.on('close', () => {
  socket.close();
  process.exit(0);
});
