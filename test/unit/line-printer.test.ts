import { expect, test } from 'vitest';
import { LinePrinter } from '../../scripts/stack/line-printer.js';

test('lines from every source go out in order, in one write per event-loop turn, and flush() writes at once', async () => {
  const writes: string[] = [];
  const printer = new LinePrinter((text) => writes.push(text));
  printer.print('envoy', '{"a":1}');
  printer.print('grpc-server-1', 'listening');
  printer.print('start', 'ready');
  expect(writes).toEqual([]);
  await new Promise((resolve) => setImmediate(resolve));
  expect(writes).toEqual([`${'envoy'.padEnd(14)} | {"a":1}\n${'grpc-server-1'.padEnd(14)} | listening\n${'start'.padEnd(14)} | ready\n`]);
  printer.print('start', 'stopping');
  printer.flush();
  expect(writes.at(-1)).toBe(`${'start'.padEnd(14)} | stopping\n`);
  printer.flush();
  expect(writes).toHaveLength(2);
});
