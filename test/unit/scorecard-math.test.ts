// The scorecard's arithmetic and its judgement, without a system: Jain's index and max/min, the windows that say
// when a new replica was reached and when the spread was fair again, when a replica left rotation, the lessons, and
// the local derivations of the nginx and HAProxy configs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../../scripts/scorecard/caller.js';
import { CONFIG_FILES, deriveLocalHaproxyConfig, deriveLocalNginxConfig, judgeLessons, type ContenderScore } from '../../scripts/scorecard/index.js';
import { countsFor, fairAfter, firstCallAfter, jainIndex, maxOverMin, outOfRotationAfter, worstWindowJain } from '../../scripts/scorecard/spread-math.js';

/** Calls every `everyMs` from `from`, answered in turn by `hosts`. */
function calls(from: number, count: number, everyMs: number, hosts: string[]): CallEvent[] {
  return Array.from({ length: count }, (_, i) => ({ startedAt: from + i * everyMs, latencyMs: 1, code: 0, host: hosts[i % hosts.length] }));
}

describe('spread', () => {
  it("Jain's index: 1 when even, 1/n when one replica gets everything, undefined without calls", () => {
    expect(jainIndex([10, 10, 10])).toBe(1);
    expect(jainIndex([30, 0, 0])).toBeCloseTo(1 / 3);
    expect(jainIndex([0, 0, 0])).toBeUndefined();
  });

  it('max/min: Infinity when a replica got none', () => {
    expect(maxOverMin([20, 10, 10])).toBe(2);
    expect(maxOverMin([20, 0, 10])).toBe(Infinity);
    expect(maxOverMin([])).toBeUndefined();
  });

  it('counts every named replica, 0 for one that answered nothing, and ignores failed calls', () => {
    const events = [...calls(0, 4, 10, ['a', 'b']), { startedAt: 50, latencyMs: 2000, code: 4, host: undefined }];
    expect(countsFor(events, ['a', 'b', 'c'])).toEqual([2, 2, 0]);
  });

  it('the worst second: even on average, pinned within each second (a connection that moves once a second)', () => {
    const pinnedThenMoved = [...calls(0, 100, 10, ['a']), ...calls(1000, 100, 10, ['b']), ...calls(2000, 100, 10, ['c'])];
    expect(jainIndex(countsFor(pinnedThenMoved, ['a', 'b', 'c']))).toBe(1);
    expect(worstWindowJain(pinnedThenMoved, ['a', 'b', 'c'], 1000)).toBeCloseTo(1 / 3);
  });
});

describe('scale-up', () => {
  const before = calls(0, 200, 10, ['a', 'b', 'c']);
  const after = calls(2000, 400, 10, ['a', 'b', 'c', 'd']);

  it('first call of the new replica, and the first fair second over all four', () => {
    expect(firstCallAfter([...before, ...after], 'd', 1500)).toBe(530); // d answers the 4th call from 2000 on
    const fair = fairAfter([...before, ...after], ['a', 'b', 'c', 'd'], 1500, { windowMs: 1000, stepMs: 100, threshold: 0.95, minCalls: 50 });
    // 1700-2700: 30 calls over three, then 70 over four: Jain's index 0.97, fair enough at 0.95.
    expect(fair).toBe(1200);
  });

  it('never, when the new replica gets nothing', () => {
    expect(firstCallAfter(before, 'd', 0)).toBeUndefined();
    expect(fairAfter(before, ['a', 'b', 'c', 'd'], 0, { windowMs: 1000, stepMs: 100, threshold: 0.95, minCalls: 50 })).toBeUndefined();
  });
});

describe('out of rotation', () => {
  it('ms from the fault to its last call, or undefined when it still answered at the end', () => {
    const events = [...calls(0, 30, 10, ['a', 'b', 'c']), ...calls(300, 100, 10, ['b', 'c'])];
    expect(outOfRotationAfter(events, 'a', 100, 1300, 300)).toBe(170);
    expect(outOfRotationAfter(events, 'b', 100, 1300, 300)).toBeUndefined();
  });
});

describe('lessons', () => {
  const score = (name: string, spread: Partial<ContenderScore['spread']>, killFailed?: number): ContenderScore => ({
    name,
    title: name,
    how: '',
    features: [],
    spread: { calls: 150, failed: 0, counts: {}, ...spread },
    speed: { failed: 0, throughputPerS: 1 },
    faults: killFailed === undefined ? [] : [{ fault: 'kill', victim: 'r', sent: 400, failed: killFailed, failedByCode: {}, seconds: 2 }],
    scale: { added: 'd', limitMs: 4000 },
  });

  it('hold on a good run, and fail when a figure misses its bound', () => {
    const good = [score('envoy-l7', { jain: 1 }, 0), score('envoy-l4', { busiestShare: 1 }), score('grpc-js-rr', { jain: 0.99 })];
    expect(judgeLessons(good).map((l) => l.pass)).toEqual([true, true, true, true]);
    const bad = [score('envoy-l7', { jain: 0.5 }, 3), score('envoy-l4', { busiestShare: 0.5 }), score('grpc-js-rr', { jain: undefined })];
    expect(judgeLessons(bad).map((l) => l.pass)).toEqual([false, false, false, false]);
  });
});

describe('local derivations', () => {
  it('nginx: one server line per replica address, loopback listen, paths in the run folder', () => {
    const text = deriveLocalNginxConfig(readFileSync(CONFIG_FILES.nginx, 'utf8'), { listen: '127.0.0.1:1', replicas: ['127.0.0.2:9', '127.0.0.3:9'], dir: '/run/x' });
    expect(text).toMatch(/^\s*server 127\.0\.0\.2:9 max_fails=1 fail_timeout=5s;/m);
    expect(text).toMatch(/^\s*server 127\.0\.0\.3:9 max_fails=1 fail_timeout=5s;/m);
    expect(text).toContain('listen 127.0.0.1:1 http2;');
    expect(text).not.toContain('/tmp/');
    expect(text).not.toMatch(/^\s*server grpc-server/m);
  });

  it('HAProxy: loopback bind, the stack DNS responder, the replicas port', () => {
    const text = deriveLocalHaproxyConfig(readFileSync(CONFIG_FILES.haproxy, 'utf8'), { bind: '127.0.0.1:1', dns: '127.0.0.1:53', replicaPort: 9 });
    expect(text).toContain('bind 127.0.0.1:1 proto h2');
    expect(text).toContain('nameserver dns 127.0.0.1:53');
    expect(text).toMatch(/server-template replica 10 grpc-server:9 /);
  });

  it('a config out of shape fails with one line naming the file', () => {
    expect(() => deriveLocalNginxConfig('events {}\n', { listen: 'x', replicas: [], dir: '/' })).toThrow(/^nginx\.conf must have exactly one line matching/);
  });
});
