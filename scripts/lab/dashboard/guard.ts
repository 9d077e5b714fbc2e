// Who may drive the dashboard: the page it served, and nothing else. The API is on 127.0.0.1 only, and every request
// must also name this dashboard in its Host header (a DNS-rebinding page on another name is refused), carry the
// per-run token the page holds (another origin can neither read the page nor guess it; a custom header also forces a
// CORS preflight, which is never granted), and send JSON (no HTML form can).

/** What the guard reads of a request. */
export interface RequestFacts {
  method: string;
  host: string | undefined;
  origin: string | undefined;
  token: string | undefined;
  contentType: string | undefined;
}

/** Refused, with the status to answer and one line saying why. */
export interface Refusal {
  status: number;
  reason: string;
}

/** The Host values this dashboard answers to: 127.0.0.1:<port> and localhost:<port>. */
export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/** Checks the Host header alone: the page itself is served only to this dashboard's own names. */
export function checkHost(host: string | undefined, port: number): Refusal | undefined {
  return host !== undefined && allowedHosts(port).includes(host.toLowerCase())
    ? undefined
    : { status: 421, reason: `this dashboard answers only to ${allowedHosts(port).join(' or ')}` };
}

/** Checks an API request: Host, Origin (when sent), the per-run token, and JSON for a POST. */
export function checkApiRequest(facts: RequestFacts, port: number, token: string): Refusal | undefined {
  const host = checkHost(facts.host, port);
  if (host) return host;
  if (facts.origin !== undefined && !allowedHosts(port).map((h) => `http://${h}`).includes(facts.origin.toLowerCase())) {
    return { status: 403, reason: `requests from ${facts.origin} are not accepted` };
  }
  if (facts.token === undefined || !constantTimeEqual(facts.token, token)) {
    return { status: 403, reason: 'missing or wrong X-Lab-Token: use the page this dashboard served' };
  }
  if (facts.method === 'POST' && !/^application\/json\b/i.test(facts.contentType ?? '')) {
    return { status: 415, reason: 'send the body as application/json' };
  }
  return undefined;
}

/** String comparison whose time does not depend on where the strings differ. */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i += 1) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
