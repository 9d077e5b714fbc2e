import type { LogFormat } from './config.js';

/** Extra key/value pairs printed after the event name. */
export type LogFields = Record<string, string | number | boolean>;

/** Writes one line per event, as text or as one JSON object. */
export type Logger = (event: string, fields?: LogFields) => void;

/** Creates a logger that stamps each line with the time and the replica name. */
export function createLogger(
  format: LogFormat,
  replica: string,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Logger {
  return (event, fields = {}) => {
    const time = new Date().toISOString();
    if (format === 'json') {
      write(JSON.stringify({ time, replica, event, ...fields }));
      return;
    }
    const pairs = Object.entries(fields).map(([key, value]) => `${key}=${formatTextValue(value)}`);
    write([time, replica, event, ...pairs].join(' '));
  };
}

function formatTextValue(value: string | number | boolean): string {
  const text = String(value);
  // Quote anything that would break `key=value` splitting (spaces, quotes, newlines, empty).
  return text === '' || /[\s"=\\]|[\x00-\x1f\x7f]/.test(text) ? JSON.stringify(text) : text;
}
