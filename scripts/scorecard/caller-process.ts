// The scorecard's caller: a process of its own that makes every call the scorecard measures, with the load
// generator's one call loop (runLoad). It exists because grpc-js reads GRPC_NODE_USE_ALTERNATIVE_RESOLVER once, when
// it loads: only with it set does a `dns://127.0.0.1:PORT/grpc-server:PORT` target ask the DNS server its authority
// names (the local stack's responder) instead of the machine's resolver, and setting it for the whole lab would
// change how every other channel resolves. caller.ts starts it with the variable set and speaks JSON lines with it:
//   in:  {"id": 1, "op": "run", "options": LoadOptions, "events": true}   {"id": 1, "op": "stop"}
//   out: {"ready": true}   {"id": 1, "call": [startedAt epoch ms, latency ms, grpc code, hostname or null]}
//        {"id": 1, "report": LoadReport}   {"id": 1, "error": "one line"}
import { createInterface } from 'node:readline';
import { runLoad, type LoadOptions } from '../../client/src/index.js';
import { messageOf } from '../cli/command-line.js';

const PROGRAM = 'scorecard-caller';

if (process.env.GRPC_NODE_USE_ALTERNATIVE_RESOLVER !== 'true') {
  process.stderr.write(`${PROGRAM}: GRPC_NODE_USE_ALTERNATIVE_RESOLVER=true must be set before grpc-js loads (start it through caller.ts)\n`);
  process.exit(2);
}

type Command = { id: number; op: 'run'; options: LoadOptions; events?: boolean } | { id: number; op: 'stop' };

const running = new Map<number, AbortController>();
const send = (message: object): void => void process.stdout.write(`${JSON.stringify(message)}\n`);

function run(id: number, options: LoadOptions, events: boolean): void {
  const abort = new AbortController();
  running.set(id, abort);
  const onSettled = events
    ? (call: { startedAt: Date; result: { latencyMs: number; code: number; ok: boolean; hostname?: string } }) =>
        send({ id, call: [call.startedAt.getTime(), round(call.result.latencyMs), call.result.code, call.result.ok ? call.result.hostname : null] })
    : undefined;
  runLoad({ ...options, workers: 1 }, { signal: abort.signal, onSettled })
    .then((report) => send({ id, report }))
    .catch((error: unknown) => send({ id, error: messageOf(error) }))
    .finally(() => running.delete(id));
}

createInterface({ input: process.stdin })
  .on('line', (line) => {
    let command: Command;
    try {
      command = JSON.parse(line) as Command;
    } catch {
      send({ error: `not a JSON command: ${line.slice(0, 80)}` });
      return;
    }
    if (command.op === 'run') run(command.id, command.options, command.events === true);
    else running.get(command.id)?.abort();
  })
  // The lab went away (or closed us): stop starting calls, let those in flight settle, and end.
  .on('close', () => {
    for (const abort of running.values()) abort.abort();
    const done = setInterval(() => {
      if (running.size === 0) {
        clearInterval(done);
        process.exit(0);
      }
    }, 50);
  });

send({ ready: true });

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
