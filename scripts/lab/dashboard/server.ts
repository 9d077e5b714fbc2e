// `lab dashboard`: a page on 127.0.0.1 that shows the system live, once a second, and drives it with the lab's verbs
// and experiments. It talks to the system only through the lab driver (and Envoy's admin, as every lab view does), so
// it works the same over Compose and local processes. Its API is guarded (guard.ts): only the page it served drives it.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { LB_POLICIES } from '../../envoy/index.js';
import type { LabDriver } from '../../drivers/index.js';
import { EXPERIMENTS } from '../../experiments/index.js';
import { FAIL_CODE_NAMES } from '../../../server/src/index.js';
import { LatencyProbe } from '../latency-probe.js';
import { actionFailure, ActionRequestError, parseActionRequest, runAction } from './actions.js';
import { ExperimentRun } from './experiment-run.js';
import { checkApiRequest, checkHost } from './guard.js';
import { DashboardSampler, type Sample } from './sampler.js';
import type { DashboardMeta, DashboardSnapshot } from './snapshot.js';

/** p50 and p99 look back this far over the probe's calls (the page says so). */
const LATENCY_WINDOW_MS = 10_000;
/** The charts keep this many one-second samples: the last five minutes. */
const HISTORY_LENGTH = 300;
/** A request body is a verb and an argument: anything larger is not from the page. */
const MAX_BODY_BYTES = 4096;

const pageDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'page');
const require = createRequire(import.meta.url);

export interface DashboardOptions {
  /** 127.0.0.1:<port>; 0 picks a free one. */
  port: number;
  /** The dashboard's own probe calls a second through Envoy, for latency. */
  probeRate: number;
  /** One line per event: a verb carried out, an experiment's phase. */
  log: (line: string) => void;
}

/** A running dashboard. */
export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

/** The page's files, read (and its script compiled from TypeScript) once at start. */
function loadAssets(): Record<string, { type: string; body: string }> {
  const app = ts.transpileModule(readFileSync(path.join(pageDir, 'app.ts'), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  return {
    '/assets/app.js': { type: 'text/javascript; charset=utf-8', body: app },
    '/assets/style.css': { type: 'text/css; charset=utf-8', body: readFileSync(path.join(pageDir, 'style.css'), 'utf8') },
    // uPlot from node_modules, as its package ships it: no CDN, nothing fetched from outside.
    '/assets/uplot.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8') },
    '/assets/uplot.css': { type: 'text/css; charset=utf-8', body: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8') },
  };
}

/** Starts sampling and serving; resolves once the page can be opened. */
export async function startDashboard(driver: LabDriver, options: DashboardOptions): Promise<Dashboard> {
  const token = randomBytes(24).toString('hex');
  const assets = loadAssets();
  const page = readFileSync(path.join(pageDir, 'index.html'), 'utf8').replace('{{TOKEN}}', token);
  const adminUrl = await driver.adminUrl();
  const probe = new LatencyProbe(await driver.envoyTarget(), options.probeRate, LATENCY_WINDOW_MS);
  const sampler = new DashboardSampler(driver, adminUrl, probe);
  const experiment = new ExperimentRun();
  const system = await driver.describe();
  const meta: DashboardMeta = {
    experiments: EXPERIMENTS.map((e) => ({ name: e.name, title: e.title })),
    policies: [...LB_POLICIES],
    failCodes: [...FAIL_CODE_NAMES],
    historyLength: HISTORY_LENGTH,
  };

  const history: DashboardSnapshot[] = [];
  let latest: Sample | undefined;
  let busy: string | null = null;
  let message: DashboardSnapshot['message'] = null;
  let sampleError: string | undefined;

  const snapshot = (sample: Sample): DashboardSnapshot => ({
    ...sample,
    driver: driver.kind,
    system,
    probeRate: options.probeRate,
    probeFailed: probe.failed,
    latencyWindowS: LATENCY_WINDOW_MS / 1000,
    busy,
    message,
    experiment: experiment.view,
  });

  // Once a second; a sample that fails (Envoy in a hot restart, the engine busy) leaves the last one standing.
  let stopped = false;
  const sampling = (async () => {
    while (!stopped) {
      const started = Date.now();
      try {
        latest = await sampler.sample();
        history.push(snapshot(latest));
        if (history.length > HISTORY_LENGTH) history.shift();
        if (sampleError !== undefined) options.log('sampling works again');
        sampleError = undefined;
      } catch (error) {
        const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
        if (reason !== sampleError) options.log(`cannot sample the system: ${reason}`);
        sampleError = reason;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - started))));
    }
  })();

  // One verb at a time, in the order they came: two scales racing would leave the system in neither state.
  let queue: Promise<unknown> = Promise.resolve();
  const act = (body: unknown): Promise<{ status: number; body: unknown }> => {
    const run = async () => {
      const action = parseActionRequest(body);
      if (experiment.running) return { status: 409, body: { error: `experiment ${experiment.view?.name} is running; its changes would be mixed with yours` } };
      const described = [action.verb, action.replica, action.value].filter(Boolean).join(' ');
      busy = described;
      try {
        const done = await runAction(driver, action);
        if (done.faults) sampler.noteFaults(done.faults);
        message = { text: done.message, error: false };
        options.log(`action ${done.message}`);
        return { status: 200, body: { message: done.message } };
      } catch (error) {
        const line = actionFailure(error);
        message = { text: `${described}: ${line}`, error: true };
        options.log(`action ${described} failed: ${line}`);
        return { status: error instanceof ActionRequestError ? 400 : 409, body: { error: line } };
      } finally {
        busy = null;
      }
    };
    const next = queue.then(run, run);
    queue = next.catch(() => undefined);
    return next;
  };

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (error instanceof ActionRequestError) send(response, 400, { error: error.message });
      else send(response, 500, { error: `internal error: ${error instanceof Error ? error.message : String(error)}` });
    });
  });

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const port = (server.address() as AddressInfo).port;
    const url = new URL(request.url ?? '/', 'http://dashboard');
    const method = request.method ?? 'GET';
    if (!url.pathname.startsWith('/api/')) {
      const refused = checkHost(request.headers.host, port);
      if (refused) return send(response, refused.status, { error: refused.reason });
      if (method !== 'GET') return send(response, 405, { error: 'the page and its files are read with GET' });
      if (url.pathname === '/') return sendPage(response, page);
      const asset = assets[url.pathname];
      if (!asset) return send(response, 404, { error: `no such file ${url.pathname}` });
      response.writeHead(200, { 'Content-Type': asset.type, ...COMMON_HEADERS }).end(asset.body);
      return;
    }
    const refused = checkApiRequest(
      {
        method,
        host: request.headers.host,
        origin: request.headers.origin,
        token: header(request, 'x-lab-token'),
        contentType: request.headers['content-type'],
      },
      port,
      token,
    );
    if (refused) return send(response, refused.status, { error: refused.reason });
    const route = `${method} ${url.pathname}`;
    if (route === 'GET /api/meta') return send(response, 200, meta);
    if (route === 'GET /api/history') return send(response, 200, history);
    if (route === 'GET /api/state') {
      return latest ? send(response, 200, snapshot(latest)) : send(response, 503, { error: sampleError ?? 'the first sample is not in yet' });
    }
    if (route === 'POST /api/action') {
      const result = await act(await readJson(request));
      return send(response, result.status, result.body);
    }
    if (route === 'POST /api/experiment') {
      const body = (await readJson(request)) as { name?: unknown; quick?: unknown };
      if (typeof body.name !== 'string') return send(response, 400, { error: 'name must be an experiment name' });
      if (busy) return send(response, 409, { error: `${busy} is being carried out; start the experiment after it` });
      try {
        experiment.start(driver, body.name, body.quick === true, options.log);
      } catch (error) {
        return send(response, 409, { error: error instanceof Error ? error.message : String(error) });
      }
      return send(response, 202, { started: body.name });
    }
    return send(response, 404, { error: `no route ${route}` });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  return {
    url,
    close: async () => {
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sampling;
      await queue;
      await probe.close();
    },
  };
}

const COMMON_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** The page: scripts and styles from this dashboard only, no frames, no forms posting elsewhere. */
function sendPage(response: http.ServerResponse, page: string): void {
  response
    .writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy':
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      'X-Frame-Options': 'DENY',
      ...COMMON_HEADERS,
    })
    .end(page);
}

function send(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json', ...COMMON_HEADERS }).end(`${JSON.stringify(body)}\n`);
}

function header(request: http.IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readJson(request: http.IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) {
    text += String(chunk);
    if (text.length > MAX_BODY_BYTES) throw new ActionRequestError('request body too large');
  }
  try {
    return JSON.parse(text === '' ? '{}' : text) as unknown;
  } catch {
    return undefined; // parseActionRequest says what is wrong with it
  }
}
