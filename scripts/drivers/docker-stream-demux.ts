// Without a TTY, Docker sends an exec's stdout and stderr over one stream, each piece behind an 8-byte header:
// [stream type (1 stdout, 2 stderr), 0, 0, 0, payload length as uint32 big-endian]. The control CLI prints one
// short line, so the whole stream is collected first and split afterwards, which is simpler than a streaming parser.

/** What a finished exec printed. */
export interface ExecOutput {
  stdout: string;
  stderr: string;
}

const HEADER_BYTES = 8;

/** Reads a multiplexed exec stream to its end (or fails after timeoutMs) and splits it into stdout and stderr. */
export async function readMultiplexed(stream: NodeJS.ReadableStream, timeoutMs: number): Promise<ExecOutput> {
  return demultiplex(await collect(stream, timeoutMs));
}

/** Splits a complete multiplexed buffer into stdout and stderr text; throws on a malformed or truncated frame. */
export function demultiplex(buffer: Buffer): ExecOutput {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    if (buffer.length - offset < HEADER_BYTES) throw new Error('exec output ends inside a frame header');
    const type = buffer.readUInt8(offset);
    const length = buffer.readUInt32BE(offset + 4);
    const start = offset + HEADER_BYTES;
    if (type !== 0 && type !== 1 && type !== 2) throw new Error(`exec output is not multiplexed (stream type ${type})`);
    if (start + length > buffer.length) throw new Error('exec output ends inside a frame');
    (type === 2 ? err : out).push(buffer.subarray(start, start + length));
    offset = start + length;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

function collect(stream: NodeJS.ReadableStream, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const finish = (error?: Error) => {
      clearTimeout(timer);
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('close', onEnd);
      stream.removeListener('error', finish);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer | string) => chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    // A hijacked socket may only emit 'close'; either one means the exec's output is complete.
    const onEnd = () => finish();
    const timer = setTimeout(() => {
      // A stream that never ends would keep its socket open; release it when we stop waiting.
      (stream as Partial<{ destroy(): void }>).destroy?.();
      finish(new Error(`no end of exec output within ${timeoutMs} ms`));
    }, timeoutMs);
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('close', onEnd);
    stream.once('error', finish);
  });
}
