// Replicas that die or freeze mid-load, at 200 calls/s through Envoy, five rounds of each: the client's own count
// must balance (sent = ok + failed, no call lost) and no call may fail, since Envoy retries a killed replica's calls
// on another and a frozen replica's tries time out after 1 s and go elsewhere. The one exception is a reply a SIGKILL
// cuts after Envoy has begun to forward it (see expectNoneLost).
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad, type LoadReport } from '../../client/src/index.js';
import { stats } from '../../scripts/envoy/index.js';
import { CUT_REPLY } from '../../scripts/experiments/index.js';
import { pollUntil } from '../../scripts/stack/index.js';
import { expectStillServing } from '../helpers/hostile.js';
import { useLocalStack } from '../helpers/local-stack-fixture.js';

const REPLICAS = 3;
const RATE = 200;
const lab = useLocalStack({ replicas: REPLICAS });

afterEach(async () => {
  for (const replica of lab.stack.replicas()) if (replica.paused) await lab.stack.signalReplica(replica.name, 'SIGCONT');
  if (lab.stack.replicas().length < REPLICAS) {
    await lab.stack.scale(REPLICAS);
    await lab.stack.waitForHealthy(REPLICAS, 20_000);
  }
  await expectStillServing(lab.stack, REPLICAS);
});

/** 200 calls/s for `seconds` through Envoy, with `fault` done to a replica once the load runs. */
async function loadAcross(seconds: number, fault: (name: string) => Promise<void>): Promise<LoadReport> {
  const before = await retryStats();
  let settled = 0;
  const load = runLoad({ target: lab.stack.envoyTarget, rate: RATE, durationS: seconds, concurrency: 400, deadlineMs: 5000 }, { onSettled: () => (settled += 1) });
  await pollUntil('the load to be under way', () => settled >= RATE / 2, { timeoutMs: 10_000 });
  await fault(lab.stack.replicas()[1]!.name);
  const report = await load;
  const after = await retryStats();
  envoySaw = Object.fromEntries(Object.entries(after).map(([name, value]) => [name, value - (before[name] ?? 0)]).filter(([, v]) => v !== 0));
  return report;
}

let envoySaw: Record<string, number> = {};
async function retryStats(): Promise<Record<string, number>> {
  const found = await stats(lab.stack.adminUrl, '^cluster\\.grpc_server\\.(upstream_rq_retry.*|upstream_rq_per_try_timeout|upstream_rq_timeout|outlier_detection\\.ejections_enforced_total|upstream_cx_destroy_remote_with_active_rq)$');
  return Object.fromEntries([...found].map(([name, value]) => [name.replace('cluster.grpc_server.', ''), value]));
}

/**
 * sent = ok + failed, and no failure beyond `cutReplies` replies cut mid-write. grpc-js sends a reply's headers and
 * message first and its trailers one event-loop turn later (after the write completes); a SIGKILL in between leaves
 * Envoy with a reply already started, which it must not retry, so it resets the client's stream (INTERNAL, RST_STREAM
 * code 2). Only a kill can do that, at most once per kill.
 */
function expectNoneLost(report: LoadReport, cutReplies = 0): void {
  expect(report.sent, 'sent = ok + failed').toBe(report.ok + report.failed);
  expect(report.sent).toBeGreaterThan(RATE * 2);
  const why = `failures: ${JSON.stringify(report.failedByCode)} ${report.lastFailure ?? ''}; Envoy: ${JSON.stringify(envoySaw)}`;
  const cut = report.failedByCode[CUT_REPLY.code] ?? 0;
  expect(report.failed - cut, why).toBe(0);
  expect(cut, why).toBeLessThanOrEqual(cutReplies);
  if (cut > 0) expect(report.lastFailure, why).toBe('INTERNAL: Received RST_STREAM with code 2 (Internal server error)');
}

describe(`a replica fails at ${RATE} calls/s through Envoy`, () => {
  it.each([1, 2, 3, 4, 5])('SIGKILL (round %i): none is lost, none fails but a reply the kill cut mid-write', async () => {
    const report = await loadAcross(3, async (name) => {
      await lab.stack.signalReplica(name, 'SIGKILL');
    });
    expectNoneLost(report, 1);
  });

  it.each([1, 2, 3, 4, 5])('SIGSTOP for 2 s (round %i): no call fails, none is lost', async () => {
    const report = await loadAcross(3.5, async (name) => {
      await lab.stack.signalReplica(name, 'SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await lab.stack.signalReplica(name, 'SIGCONT');
    });
    expectNoneLost(report);
  });
});
