// Docker's multiplexed exec stream, built byte for byte as the Engine sends it with Tty off.
import { PassThrough, Readable } from 'node:stream';
import { expect, test } from 'vitest';
import { demultiplex, readMultiplexed } from '../../scripts/drivers/docker-stream-demux.js';

function frame(type: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

test('interleaved stdout and stderr frames, delivered one byte at a time, come apart in order', async () => {
  const bytes = Buffer.concat([frame(1, '{"a":'), frame(2, 'warn\n'), frame(1, '1}\n'), frame(2, 'é\n')]);
  const stream = Readable.from([...bytes].map((byte) => Buffer.from([byte])));
  expect(await readMultiplexed(stream, 1_000)).toEqual({ stdout: '{"a":1}\n', stderr: 'warn\né\n' });
});

test('an empty stream is empty output', () => {
  expect(demultiplex(Buffer.alloc(0))).toEqual({ stdout: '', stderr: '' });
});

test('truncated or non-multiplexed output is an error, not a wrong answer', () => {
  expect(() => demultiplex(frame(1, 'hello').subarray(0, 10))).toThrow('exec output ends inside a frame');
  expect(() => demultiplex(frame(1, 'hello').subarray(0, 5))).toThrow('exec output ends inside a frame header');
  expect(() => demultiplex(Buffer.from('plain tty text'))).toThrow('exec output is not multiplexed (stream type 112)');
});

test('a stream that never ends fails at the deadline and is destroyed', async () => {
  const stream = new PassThrough();
  stream.write(frame(1, 'partial'));
  await expect(readMultiplexed(stream, 50)).rejects.toThrow('no end of exec output within 50 ms');
  expect(stream.destroyed).toBe(true);
});
