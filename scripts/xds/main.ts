// `npm run xds`: the control plane for the Compose system, on the host. It watches Docker's event stream for one
// Compose project's grpc-server containers (dockerode; the containers themselves never get the Docker socket) and
// serves them over ADS on Docker's host-gateway address, which Envoy's container reaches as host.docker.internal.
//   docker compose -f docker-compose.yml -f docker-compose.xds.yml up --build --scale grpc-server=3
//   npm run xds
// A status and policy API on 127.0.0.1 (Bearer token, in .lab/xds-<project>.json) lets the lab read its counters
// and switch Envoy's balancing policy through CDS.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Docker from 'dockerode';
import { commandLine, integerIn, messageOf } from '../cli/command-line.js';
import { LB_POLICIES, normalizePolicyChoice, PolicyChoiceError, type LbPolicy } from '../envoy/index.js';
import { XdsControlPlane } from './control-plane.js';
import { controlPlaneStatePath, DEFAULT_ADS_PORT, removeControlPlaneState, writeControlPlaneState } from './control-plane-state.js';
import { DockerEndpointFeed } from './docker-feed.js';
import { hostGatewayAddress } from './host-gateway.js';
import { servedConfigFor } from './served-config.js';

const PROGRAM = 'npm run xds';

const program = commandLine(PROGRAM)
  .description("Serve the Compose project's replicas to Envoy and proxyless clients over xDS, from Docker's event stream.")
  .option('--project <name>', 'the Compose project to watch (default: COMPOSE_PROJECT_NAME, else grpc-envoy-lab)')
  .option('--port <port>', `the ADS port (0: any free one; envoy-xds.yaml dials ${DEFAULT_ADS_PORT})`, integerIn(0, 65535, '--port'), DEFAULT_ADS_PORT)
  .option('--listen <address>', "the address to serve on (default: Docker's host-gateway address, which containers reach as host.docker.internal)")
  // The lab starts it in the background: it must not outlive the project it serves (a `docker compose down`).
  .option('--exit-with-project', "stop when the project's network is removed (docker compose down)");
program.parse();
const options = program.opts<{ project?: string; port: number; listen?: string; exitWithProject?: boolean }>();
const project = options.project ?? (process.env.COMPOSE_PROJECT_NAME || 'grpc-envoy-lab');
if (!/^[a-z0-9][a-z0-9_-]*$/.test(project)) fail(`--project must be a Compose project name (lowercase letters, digits, - and _), got "${project}"`);

function fail(message: string): never {
  console.error(`${PROGRAM}: ${message}`);
  process.exit(2);
}

function say(line: string): void {
  console.log(`${'xds'.padEnd(14)} | ${line}`);
}

const docker = new Docker();
let listen: string;
try {
  listen = options.listen ?? (await hostGatewayAddress(docker));
} catch (error) {
  console.error(`${PROGRAM}: no Docker engine answers, or ${messageOf(error)}`);
  process.exit(1);
}

const controlPlane = new XdsControlPlane({ config: servedConfigFor({ policy: 'ROUND_ROBIN' }), log: say });
let port: number;
try {
  port = await controlPlane.listen(listen, options.port);
} catch (error) {
  console.error(`${PROGRAM}: cannot listen on ${listen}:${options.port}: ${messageOf(error)}`);
  process.exit(1);
}
const feed = new DockerEndpointFeed(docker, controlPlane, { project, service: 'grpc-server', port: 8080, log: say });
try {
  await feed.start();
} catch (error) {
  console.error(`${PROGRAM}: cannot follow Docker's events: ${messageOf(error)}`);
  process.exit(1);
}

if (options.exitWithProject) {
  const network = `${project}_default`;
  const events = await docker.getEvents({ filters: { type: ['network'], event: ['destroy'], network: [network] } });
  events.on('data', () => void shutdown(`network ${network} was removed`));
}

const token = randomBytes(24).toString('hex');
const api = http.createServer((request, response) => void handle(request, response));
await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', () => resolve()));
const stateFile = controlPlaneStatePath(project);
writeControlPlaneState(stateFile, {
  pid: process.pid,
  project,
  ads: `${listen}:${port}`,
  apiUrl: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
  token,
});
say(`serving Compose project ${project} on ${listen}:${port}; state in ${stateFile}`);

async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const send = (status: number, body: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
  };
  const given = Buffer.from(String(request.headers.authorization ?? ''));
  const expected = Buffer.from(`Bearer ${token}`);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return send(401, { error: 'a Bearer token is required (see the state file)' });
  try {
    if (request.method === 'GET' && request.url === '/status') return send(200, controlPlane.status());
    if (request.method === 'POST' && request.url === '/policy') {
      let text = '';
      for await (const chunk of request) text += String(chunk);
      const body = JSON.parse(text || '{}') as { policy?: unknown };
      if (typeof body.policy !== 'string' || !LB_POLICIES.includes(body.policy as LbPolicy)) {
        return send(400, { error: `policy must be one of ${LB_POLICIES.join(', ')}` });
      }
      const choice = normalizePolicyChoice(body as Parameters<typeof normalizePolicyChoice>[0]);
      controlPlane.setConfig(servedConfigFor(choice));
      await controlPlane.waitForEnvoyAck(15_000);
      return send(200, controlPlane.status());
    }
    return send(404, { error: `no route ${request.method} ${request.url}` });
  } catch (error) {
    return send(error instanceof PolicyChoiceError || error instanceof SyntaxError ? 400 : 500, { error: messageOf(error) });
  }
}

let stopping = false;
async function shutdown(reason: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  say(`${reason}; stopping`);
  removeControlPlaneState(stateFile, process.pid);
  feed.stop();
  api.closeAllConnections();
  api.close();
  await controlPlane.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('exit', () => removeControlPlaneState(stateFile, process.pid));
