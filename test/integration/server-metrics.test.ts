// The replica's own Prometheus endpoint, read from a real server process after real calls: what it counted, by
// method and status, how long the calls took, what is in flight, and its health and injected faults as gauges.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreeterClient } from '../../gen/greeter/v1/greeter.js';
import { parseExposition, sampleValue, type Sample } from '../helpers/prometheus-text.js';
import { control, greeterClient, killAllProcesses, sayHello, startServer, type ServerProcess } from './server-process.js';

const METHOD = { grpc_service: 'greeter.v1.Greeter', grpc_method: 'SayHello' };

let server: ServerProcess;
let client: GreeterClient;

async function scrape(path = '/metrics'): Promise<{ status: number; type: string | null; samples: Sample[] }> {
  const response = await fetch(`http://127.0.0.1:${server.metricsPort}${path}`, { signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type'), samples: response.ok ? parseExposition(text) : [] };
}

const handled = (samples: Sample[], code: string): number => sampleValue(samples, 'grpc_server_handled_total', { ...METHOD, grpc_code: code });

beforeAll(async () => {
  server = await startServer({ REPLICA_NAME: 'grpc-server-7' });
  client = greeterClient(server.grpcAddress);
});

afterAll(async () => {
  client?.close();
  await killAllProcesses();
});

describe('GET /metrics on METRICS_PORT', () => {
  it('answers in the text exposition format, every series labelled with the replica name, and 404 elsewhere', async () => {
    const { status, type, samples } = await scrape();
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(samples.length).toBeGreaterThan(20);
    expect(samples.filter((s) => s.labels.replica !== 'grpc-server-7')).toEqual([]);
    // Node's process metrics come along: CPU and memory per replica.
    expect(sampleValue(samples, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect((await scrape('/state')).status).toBe(404);
  });

  it('counts calls by status code, times them, and brings in-flight back to 0', async () => {
    const before = (await scrape()).samples;
    for (let i = 0; i < 5; i += 1) expect((await sayHello(client, 'metrics')).ok).toBe(true);
    expect((await sayHello(client, '')).ok).toBe(false); // INVALID_ARGUMENT: an empty name
    const after = (await scrape()).samples;
    expect(handled(after, 'OK') - handled(before, 'OK')).toBe(5);
    expect(handled(after, 'INVALID_ARGUMENT')).toBe(1);
    const count = (s: Sample[]) => sampleValue(s, 'grpc_server_handling_seconds_count', METHOD);
    expect(count(after) - count(before)).toBe(6);
    const started = (s: Sample[]) => sampleValue(s, 'grpc_server_started_total', METHOD);
    expect(started(after) - started(before)).toBe(6);
    expect(sampleValue(after, 'grpc_server_in_flight_calls', METHOD)).toBe(0);
  });

  it('shows injected faults and health as gauges, and counts the failures they cause', async () => {
    expect((await control(server.controlPort, 'POST', '/state', '{"failRate":1,"failCode":"INTERNAL","latencyMs":20}')).status).toBe(200);
    expect((await control(server.controlPort, 'POST', '/state', '{"health":"NOT_SERVING"}')).status).toBe(200);
    const failed = await sayHello(client, 'x');
    expect(failed.ok).toBe(false);
    const { samples } = await scrape();
    expect(sampleValue(samples, 'greeter_fault_fail_rate')).toBe(1);
    expect(sampleValue(samples, 'greeter_fault_fail_code', { grpc_code: 'INTERNAL' })).toBe(1);
    expect(samples.filter((s) => s.name === 'greeter_fault_fail_code')).toHaveLength(1);
    expect(sampleValue(samples, 'greeter_fault_latency_seconds')).toBe(0.02);
    expect(sampleValue(samples, 'greeter_health_serving')).toBe(0);
    expect(sampleValue(samples, 'greeter_draining')).toBe(0);
    expect(handled(samples, 'INTERNAL')).toBe(1);
    // The injected 20 ms is inside the call's time: the observation landed above the 10 ms bucket.
    const under10ms = sampleValue(samples, 'grpc_server_handling_seconds_bucket', { ...METHOD, le: '0.01' });
    expect(sampleValue(samples, 'grpc_server_handling_seconds_count', METHOD) - under10ms).toBeGreaterThanOrEqual(1);

    await control(server.controlPort, 'POST', '/reset');
    const reset = (await scrape()).samples;
    expect(sampleValue(reset, 'greeter_fault_fail_rate')).toBe(0);
    expect(sampleValue(reset, 'greeter_health_serving')).toBe(1);
    expect(sampleValue(reset, 'greeter_fault_fail_code', { grpc_code: 'UNAVAILABLE' })).toBe(1);
  });

  it('counts a call whose caller gave up during an injected latency as CANCELLED, and not in flight', async () => {
    await control(server.controlPort, 'POST', '/state', '{"latencyMs":2000}');
    const before = handled((await scrape()).samples, 'CANCELLED');
    const outcome = await sayHello(client, 'late', 100);
    expect(outcome.ok).toBe(false);
    // The server learns of the expired deadline a moment after the client does.
    let samples: Sample[] = [];
    const deadline = Date.now() + 5000;
    do {
      samples = (await scrape()).samples;
      if (handled(samples, 'CANCELLED') > before) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } while (Date.now() < deadline);
    expect(handled(samples, 'CANCELLED') - before).toBe(1);
    expect(sampleValue(samples, 'grpc_server_in_flight_calls', METHOD)).toBe(0);
    await control(server.controlPort, 'POST', '/reset');
  });

  it('reports the drain: greeter_draining 1 and NOT_SERVING while the replica still answers', async () => {
    const draining = await startServer({ DRAIN_DELAY_MS: '5000' });
    draining.signal('SIGTERM');
    await draining.waitForLine((line) => line.includes('shutdown begin'));
    const response = await fetch(`http://127.0.0.1:${draining.metricsPort}/metrics`, { signal: AbortSignal.timeout(5000) });
    const samples = parseExposition(await response.text());
    expect(sampleValue(samples, 'greeter_draining')).toBe(1);
    expect(sampleValue(samples, 'greeter_health_serving')).toBe(0);
    draining.signal('SIGTERM'); // a second signal stops at once
    await draining.exited();
  });
});
