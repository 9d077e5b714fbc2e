// The Docker-free system with a real Prometheus (`npm start -- --prometheus`), read only through Prometheus's HTTP API:
// it scrapes every replica and Envoy, a killed replica's target goes down while the others' call rates rise, and every
// expression of the Grafana dashboard runs against it and finds the series it names.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runLoad } from '../../client/src/index.js';
import { observabilityDir, requirePrometheus } from '../../scripts/observability/index.js';
import { pollUntil } from '../../scripts/stack/index.js';
import { startStack, type StackUnderTest } from '../helpers/local-stack-fixture.js';

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

let lab: StackUnderTest;
let prometheusUrl: string;

async function api<T>(route: string, params: Record<string, string> = {}): Promise<T> {
  const url = `${prometheusUrl}/api/v1/${route}?${new URLSearchParams(params).toString()}`;
  const body = (await (await fetch(url, { signal: AbortSignal.timeout(5000) })).json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`Prometheus ${route} ${JSON.stringify(params)}: ${body.error ?? body.status}`);
  return body.data;
}

async function query(expr: string): Promise<VectorSample[]> {
  return (await api<{ result: VectorSample[] }>('query', { query: expr })).result;
}

/** Calls per second each replica answered over the last 6 s (three scrapes), by replica name. */
async function ratesByReplica(): Promise<Map<string, number>> {
  const result = await query('sum by (replica) (rate(grpc_server_handled_total[6s]))');
  return new Map(result.map((s) => [s.metric.replica ?? '?', Number(s.value[1])]));
}

beforeAll(async () => {
  const tools = await requirePrometheus();
  lab = await startStack({ prometheus: { binary: tools.prometheus, port: 0 } });
  prometheusUrl = lab.stack.prometheusUrl ?? '';
});

afterAll(async () => {
  await lab?.stack.stop();
});

describe('npm start --prometheus: a real Prometheus scraping the local system', () => {
  test('scrapes every replica (named by the target list the stack wrote) and Envoy', async () => {
    const targets = await pollUntil(
      'Prometheus to scrape 3 replicas and Envoy, all up',
      async () => {
        const { activeTargets } = await api<{ activeTargets: { labels: Record<string, string>; health: string }[] }>('targets', { state: 'active' });
        return activeTargets.length === 4 && activeTargets.every((t) => t.health === 'up') ? activeTargets : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(targets.filter((t) => t.labels.job === 'grpc-server').map((t) => t.labels.replica).sort()).toEqual([
      'grpc-server-1',
      'grpc-server-2',
      'grpc-server-3',
    ]);
    expect(targets.filter((t) => t.labels.job === 'envoy')).toHaveLength(1);
  });

  test("a killed replica's target goes down, and the other replicas' call rates rise", async () => {
    const stop = new AbortController();
    const load = runLoad({ target: lab.stack.envoyTarget, rate: 60, concurrency: 20, durationS: 60, deadlineMs: 2000 }, { signal: stop.signal });
    try {
      // Round robin over three: about 20 calls/s each, once the 6 s window holds nothing but the load.
      const before = await pollUntil(
        'each replica to show a steady 20 calls/s',
        async () => {
          const rates = await ratesByReplica();
          return rates.size === 3 && [...rates.values()].every((rate) => rate > 17 && rate < 23) ? rates : undefined;
        },
        { timeoutMs: 25_000, intervalMs: 500 },
      );
      await lab.stack.signalReplica('grpc-server-2', 'SIGKILL');
      const down = await pollUntil(
        "grpc-server-2's target to be down",
        async () => {
          const [sample] = await query('up{job="grpc-server", replica="grpc-server-2"}');
          return sample && Number(sample.value[1]) === 0 ? sample : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 250 },
      );
      expect(down.metric.instance).toMatch(/^127\.\d+\.\d+\.3:\d+$/);
      // The same 60 calls/s over two replicas: about 30 each, once the killed one has left the 6 s window.
      const after = await pollUntil(
        'grpc-server-1 and grpc-server-3 to take over its share',
        async () => {
          const rates = await ratesByReplica();
          const [one, three] = [rates.get('grpc-server-1') ?? 0, rates.get('grpc-server-3') ?? 0];
          const risen = one > (before.get('grpc-server-1') ?? 0) * 1.3 && three > (before.get('grpc-server-3') ?? 0) * 1.3;
          return risen && !rates.has('grpc-server-2') ? rates : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 500 },
      );
      console.log(`calls/s before the kill: ${JSON.stringify(Object.fromEntries(before))}; after: ${JSON.stringify(Object.fromEntries(after))}`);
    } finally {
      stop.abort();
      await load;
    }
    // The next scale rewrites the target list: the killed replica is started again and scraped again.
    await lab.stack.scale(3);
    await pollUntil(
      "grpc-server-2's target to be up again after the scale",
      async () => {
        const [sample] = await query('up{job="grpc-server", replica="grpc-server-2"}');
        return sample !== undefined && Number(sample.value[1]) === 1;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
  }, 90_000);

  test('every expression of the Grafana dashboard runs, and every series it names exists', async () => {
    const dashboard = JSON.parse(readFileSync(path.join(observabilityDir, 'grafana', 'dashboards', 'grpc-envoy-lab.json'), 'utf8')) as {
      panels: { title: string; targets?: { expr: string }[] }[];
    };
    const expressions = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr.replaceAll('$__rate_interval', '10s')));
    for (const expr of expressions) await query(expr); // rejects with Prometheus's error for one it cannot run
    // Metric names only: label matchers ({...}) and label lists (by (...), ignoring(...)) taken out first.
    const metricText = (expr: string) => expr.replace(/\{[^}]*\}/g, '').replace(/\b(?:by|ignoring|without|on)\s*\([^)]*\)/g, '');
    const names = new Set(expressions.flatMap((expr) => metricText(expr).match(/\b(?:grpc_server|greeter|envoy)_\w+/g) ?? []));
    const missing: string[] = [];
    for (const name of names) {
      // A histogram is named by its _bucket series; the others as they are.
      if ((await query(`count({__name__="${name}"})`)).length === 0) missing.push(name);
    }
    expect(missing, 'series the dashboard names but no scrape produced').toEqual([]);
    expect(names.size).toBeGreaterThan(15);
  });
});
