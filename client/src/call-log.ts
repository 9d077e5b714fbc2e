import type { LogFormat } from './config.js';
import type { CallResult } from './greeter-call.js';

/** One settled call, as the worker reports it. */
export interface CallRecord {
  /** When the call was started: lines then line up with the ticks, and latencyMs gives the end. */
  time: Date;
  seq: number;
  result: CallResult;
}

/** Formats one call as a single log line (no trailing newline). */
export function formatCallLine(record: CallRecord, format: LogFormat): string {
  return format === 'json' ? formatJson(record) : formatText(record);
}

/** How a replica hostname is shown in text output; an empty one would otherwise vanish from the line. */
export function hostnameLabel(hostname: string): string {
  return hostname === '' ? '(empty)' : hostname;
}

/** Latency with 0.1 ms resolution: finer digits are noise from the event loop. */
export function roundLatency(latencyMs: number): number {
  return Math.round(latencyMs * 10) / 10;
}

function formatText({ time, seq, result }: CallRecord): string {
  const latency = `${roundLatency(result.latencyMs).toFixed(1)}ms`;
  if (result.ok) return `${time.toISOString()} #${seq} ${hostnameLabel(result.hostname)} ${latency} OK`;
  const details = singleLine(result.details);
  return `${time.toISOString()} #${seq} - ${latency} ${result.codeName}${details === '' ? '' : ` ${details}`}`;
}

function formatJson({ time, seq, result }: CallRecord): string {
  return JSON.stringify({
    time: time.toISOString(),
    event: 'call',
    seq,
    ok: result.ok,
    hostname: result.ok ? result.hostname : null,
    latencyMs: roundLatency(result.latencyMs),
    code: result.code,
    codeName: result.ok ? 'OK' : result.codeName,
    details: result.ok ? '' : result.details,
  });
}

// Details come from the network (Envoy, the server); a newline in them must not split one event over two lines.
function singleLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
