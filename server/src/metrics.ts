// What a replica tells Prometheus about itself: the calls it handled (by method and status code), how long they
// took, how many are in flight, its health and the faults injected into it, so a dashboard shows cause next to effect.
// The per-call work is two plain-number bumps and one histogram observation on a label set bound once at start-up.
import { status } from '@grpc/grpc-js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FaultStateView } from './fault-state.js';

/**
 * Latency buckets in seconds: a healthy call on loopback takes well under a millisecond, an injected latency can
 * reach a minute; the buckets in between are where Envoy's 1 s per-try timeout and 15 s route timeout sit.
 */
const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Every gRPC status code by number, for the grpc_code label (0 OK ... 16 UNAUTHENTICATED). */
const CODE_NAMES: readonly string[] = Object.entries(status)
  .filter(([name, value]) => typeof value === 'number' && Number.isNaN(Number(name)))
  .sort(([, a], [, b]) => Number(a) - Number(b))
  .map(([name]) => name);

/** The per-call hooks of one gRPC method: called on every call, so they allocate nothing. */
export interface MethodMetrics {
  /** A call arrived. */
  started(): void;
  /** A call ended with `code` (a cancelled one with CANCELLED) after `seconds`. */
  finished(code: status, seconds: number): void;
}

/** One replica's Prometheus registry: call metrics per method, health and faults, and Node's process metrics. */
export class ReplicaMetrics {
  readonly registry = new Registry();
  private readonly handled: Counter<'grpc_service' | 'grpc_method' | 'grpc_code'>;
  private readonly startedTotal: Counter<'grpc_service' | 'grpc_method'>;
  private readonly handling: Histogram<'grpc_service' | 'grpc_method'>;
  private readonly inFlight: Gauge<'grpc_service' | 'grpc_method'>;
  private readonly serving: Gauge;
  private readonly draining: Gauge;
  private readonly failRate: Gauge;
  private readonly failCode: Gauge<'grpc_code'>;
  private readonly latency: Gauge;
  private readonly tallies: { service: string; method: string; started: number; finished: Float64Array }[] = [];

  constructor(replica: string) {
    // Under Compose, Prometheus knows a replica only by its address; this label carries the name it answers with.
    this.registry.setDefaultLabels({ replica });
    // The names and labels of go-grpc-prometheus, which Grafana dashboards and PromQL examples already speak.
    this.handled = new Counter({
      name: 'grpc_server_handled_total',
      help: 'Calls completed by this replica, by method and gRPC status code (a cancelled call counts as CANCELLED).',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
      registers: [this.registry],
      collect: () => this.projectHandled(),
    });
    this.startedTotal = new Counter({
      name: 'grpc_server_started_total',
      help: 'Calls this replica started handling, by method.',
      labelNames: ['grpc_service', 'grpc_method'],
      registers: [this.registry],
      collect: () => this.projectStarted(),
    });
    this.handling = new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Time from a call arriving to its answer being handed to gRPC, injected latency included.',
      labelNames: ['grpc_service', 'grpc_method'],
      buckets: LATENCY_BUCKETS_S,
      registers: [this.registry],
    });
    this.inFlight = new Gauge({
      name: 'grpc_server_in_flight_calls',
      help: 'Calls started and not yet answered (a call waiting out an injected latency is in flight).',
      labelNames: ['grpc_service', 'grpc_method'],
      registers: [this.registry],
      collect: () => this.projectInFlight(),
    });
    this.serving = new Gauge({
      name: 'greeter_health_serving',
      help: 'The grpc.health.v1 status this replica reports: 1 SERVING, 0 NOT_SERVING.',
      registers: [this.registry],
    });
    this.draining = new Gauge({
      name: 'greeter_draining',
      help: '1 once a SIGTERM began the drain (NOT_SERVING, still answering), 0 before.',
      registers: [this.registry],
    });
    this.failRate = new Gauge({
      name: 'greeter_fault_fail_rate',
      help: 'Injected fault: the share of calls failed on purpose, 0-1.',
      registers: [this.registry],
    });
    this.failCode = new Gauge({
      name: 'greeter_fault_fail_code',
      help: 'Injected fault: the gRPC status injected failures carry (the series with value 1).',
      labelNames: ['grpc_code'],
      registers: [this.registry],
    });
    this.latency = new Gauge({
      name: 'greeter_fault_latency_seconds',
      help: 'Injected fault: the delay added to every answer, in seconds.',
      registers: [this.registry],
    });
    // A paused (SIGSTOP, docker pause) replica cannot say so: it shows as its scrape failing (up == 0).
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * The hooks for one method. A call bumps plain numbers (started, finished per code) and makes one histogram
   * observation on a label set bound here; the counters and the in-flight gauge are read from those numbers when
   * Prometheus scrapes, so no label set is hashed for them per call.
   */
  forMethod(service: string, method: string): MethodMetrics {
    const tally = { service, method, started: 0, finished: new Float64Array(CODE_NAMES.length) };
    this.tallies.push(tally);
    const handling = this.handling.labels(service, method);
    // Present from the start at 0, so the first call is an increase rate() sees, not a series appearing at 1.
    this.handling.zero({ grpc_service: service, grpc_method: method });
    return {
      started: () => {
        tally.started += 1;
      },
      finished: (code, seconds) => {
        tally.finished[code] = (tally.finished[code] ?? 0) + 1;
        handling.observe(seconds);
      },
    };
  }

  // prom-client calls these on every scrape: each copies the per-method tallies into its metric.

  private projectHandled(): void {
    this.handled.reset();
    for (const { service, method, finished } of this.tallies) {
      // Every code from the start at 0 (as go-grpc-prometheus initialises them), so a first failure is an increase.
      finished.forEach((count, code) => this.handled.inc({ grpc_service: service, grpc_method: method, grpc_code: CODE_NAMES[code]! }, count));
    }
  }

  private projectStarted(): void {
    this.startedTotal.reset();
    for (const { service, method, started } of this.tallies) this.startedTotal.inc({ grpc_service: service, grpc_method: method }, started);
  }

  private projectInFlight(): void {
    for (const { service, method, started, finished } of this.tallies) {
      const done = finished.reduce((sum, count) => sum + count, 0);
      this.inFlight.set({ grpc_service: service, grpc_method: method }, started - done);
    }
  }

  /** Sets the health and fault gauges to a state of the replica (call it on every change). */
  showState(state: FaultStateView, draining: boolean): void {
    this.serving.set(state.health === 'SERVING' ? 1 : 0);
    this.draining.set(draining ? 1 : 0);
    this.failRate.set(state.failRate);
    this.failCode.reset();
    this.failCode.labels(state.failCode).set(1);
    this.latency.set(state.latencyMs / 1000);
  }
}
