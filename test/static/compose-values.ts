// Reads the value syntaxes of the Compose spec that the contract test needs: port mappings, durations and
// environment blocks, in both their short (string/list) and long (mapping) forms.

/** One published or exposed port, as Compose understands it. */
export interface PortMapping {
  hostIp: string | undefined;
  /** The host side; may be a variable such as "${PORT_PROXY:-5000}". Undefined when not published. */
  published: string | undefined;
  target: number;
  protocol: string;
}

/** Splits on colons that are outside ${...} (a default like ${PORT:-5000} has a colon of its own). */
function splitOutsideVariables(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '$' && text[i + 1] === '{') depth++;
    else if (char === '}' && depth > 0) depth--;
    if (char === ':' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

/** Parses one `ports:` entry: "9901", "5000:5000", "127.0.0.1:${PORT:-9901}:9901/tcp" or the long mapping form. */
export function parsePortMapping(entry: unknown): PortMapping {
  if (typeof entry === 'number') return { hostIp: undefined, published: undefined, target: entry, protocol: 'tcp' };
  if (typeof entry === 'object' && entry !== null) {
    const long = entry as { target?: unknown; published?: unknown; host_ip?: unknown; protocol?: unknown };
    return {
      hostIp: typeof long.host_ip === 'string' ? long.host_ip : undefined,
      published: long.published === undefined ? undefined : String(long.published),
      target: Number(long.target),
      protocol: typeof long.protocol === 'string' ? long.protocol : 'tcp',
    };
  }
  if (typeof entry !== 'string') throw new Error(`not a port mapping: ${JSON.stringify(entry)}`);
  const [mapping = '', protocol = 'tcp'] = entry.split('/');
  const parts = splitOutsideVariables(mapping);
  const target = Number(parts[parts.length - 1]);
  if (parts.length === 1) return { hostIp: undefined, published: undefined, target, protocol };
  if (parts.length === 2) return { hostIp: undefined, published: parts[0], target, protocol };
  // An IPv6 host address has colons of its own; everything before the last two parts is the address.
  return {
    hostIp: parts.slice(0, -2).join(':').replace(/^\[(.*)\]$/, '$1'),
    published: parts[parts.length - 2],
    target,
    protocol,
  };
}

const DURATION_UNITS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000001 };

/** Parses a Compose duration ("10s", "1m30s", "500ms") into seconds; throws on anything else. */
export function parseDurationSeconds(value: unknown): number {
  const text = String(value);
  const pattern = /(\d+(?:\.\d+)?)(ms|us|h|m|s)/gy;
  let seconds = 0;
  let consumed = 0;
  for (const match of text.matchAll(pattern)) {
    seconds += Number(match[1]) * (DURATION_UNITS[match[2] ?? ''] ?? Number.NaN);
    consumed += match[0].length;
  }
  if (text === '' || consumed !== text.length || Number.isNaN(seconds)) {
    throw new Error(`not a Compose duration: ${JSON.stringify(value)}`);
  }
  return seconds;
}

/** Reads an `environment:` block in either form (mapping, or a list of KEY=VALUE) into a plain record. */
export function environmentOf(block: unknown): Record<string, string> {
  const env: Record<string, string> = {};
  if (Array.isArray(block)) {
    for (const item of block) {
      const [key = '', ...rest] = String(item).split('=');
      env[key] = rest.join('=');
    }
  } else if (typeof block === 'object' && block !== null) {
    for (const [key, value] of Object.entries(block)) env[key] = value === null ? '' : String(value);
  }
  return env;
}
