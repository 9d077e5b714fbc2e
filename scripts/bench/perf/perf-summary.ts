// From the raw phases to what the bench judges: ratios and differences between routes and between clients, each
// computed pair by pair within a repeat (the two figures of a pair were taken a minute apart) and summarised as
// median, min and max over the repeats, with the target beside each.
import { perCallMs, spreadOf, spreadRatio, type Client, type Phase, type Route, type Spread } from './figures.js';

/** One line of the verdict: a figure on each side, how they compare, and the target when there is one. */
export interface ComparedFigure {
  section: string;
  figure: string;
  /** Medians of the two sides (left: through Envoy or the load generator), in `unit`. */
  left: Spread;
  right: Spread | null;
  /** left/right ('ratio') or left-right ('difference'), pair by pair. */
  compare: { kind: 'ratio' | 'difference'; value: Spread } | null;
  unit: string;
  target?: { text: string; met: boolean };
}

type Pick = (phase: Phase) => number;

function phasesOf(phases: Phase[], client: Client, route: Route, rate: number | null, variant?: string): Phase[] {
  return phases.filter((p) => p.client === client && p.route === route && p.rate === rate && p.variant === variant).sort((a, b) => a.repeat - b.repeat);
}

/** Compares figure `pick` of two sets of phases, pair by pair (same repeat). */
function compare(
  section: string,
  figure: string,
  unit: string,
  left: Phase[],
  right: Phase[] | null,
  pick: Pick,
  kind: 'ratio' | 'difference',
  target?: (value: number) => { text: string; met: boolean },
): ComparedFigure {
  const leftValues = left.map(pick);
  const pairs = right ? left.flatMap((l) => right.filter((r) => r.repeat === l.repeat).map((r) => [pick(l), pick(r)] as const)) : [];
  const compared = pairs.map(([l, r]) => (kind === 'ratio' ? l / r : l - r));
  const value = spreadOf(compared);
  return {
    section,
    figure,
    unit,
    left: spreadOf(leftValues),
    right: right ? spreadOf(right.map(pick)) : null,
    compare: right ? { kind, value } : null,
    ...(target && right ? { target: target(value.median) } : {}),
  };
}

const atMost = (limit: number, text: string) => (value: number) => ({ text, met: value <= limit });
const atLeast = (limit: number, text: string) => (value: number) => ({ text, met: value >= limit });
const within = (fraction: number, text: string) => (value: number) => ({ text, met: Math.abs(value - 1) <= fraction });

/** Every comparison the bench prints, from its phases. */
export function summarise(phases: Phase[], rates: number[], replicas: number): ComparedFigure[] {
  const rows: ComparedFigure[] = [];
  const clients = [...new Set(phases.map((p) => p.client))];
  for (const client of clients) {
    const section = `Envoy vs direct (${client === 'load' ? 'the load generator' : 'ghz'})`;
    const envoyMax = phasesOf(phases, client, 'envoy', null);
    const directMax = phasesOf(phases, client, 'direct', null);
    rows.push(compare(section, 'throughput at full speed, calls/s', 'calls/s', envoyMax, directMax, (p) => p.figures.callsPerS, 'ratio'));
    rows.push(
      compare(section, 'CPU per call, Envoy + replicas vs replicas', 'ms', envoyMax, directMax, (p) => perCallMs(p).system, 'ratio',
        atMost(1.5, '≤ 1.5×')),
    );
    rows.push(compare(section, '  of which Envoy alone', 'ms', envoyMax, null, (p) => perCallMs(p).envoy, 'ratio'));
    rows.push(compare(section, '  of which the replicas', 'ms', envoyMax, directMax, (p) => perCallMs(p).replicas, 'ratio'));
    rows.push(compare(section, 'npm start (supervisor), per call', 'ms', envoyMax, directMax, (p) => perCallMs(p).supervisor, 'difference'));
    rows.push(compare(section, 'the load client, per call', 'ms', envoyMax, directMax, (p) => perCallMs(p).client, 'ratio'));
    if (client === 'load') {
      rows.push(compare(section, `round robin over ${replicas} replicas, max/min calls`, '', envoyMax, directMax, (p) => spreadRatio(p.figures.hosts, replicas), 'ratio'));
    }
    for (const rate of rates) {
      const envoy = phasesOf(phases, client, 'envoy', rate);
      const direct = phasesOf(phases, client, 'direct', rate);
      for (const [key, label] of [['p50', 'p50'], ['p99', 'p99'], ['p99_9', 'p99.9']] as const) {
        const target = rate === 500 && key === 'p50' ? atMost(0.3, '≤ +0.3 ms') : rate === 500 && key === 'p99' ? atMost(1, '≤ +1 ms') : undefined;
        rows.push(compare(section, `${label} at ${rate} calls/s`, 'ms', envoy, direct, (p) => p.figures.latencyMs?.[key] ?? Number.NaN, 'difference', target));
      }
    }
  }
  for (const variant of [...new Set(phases.flatMap((p) => (p.variant ? [p.variant] : [])))]) {
    const section = `${variant} vs as started (load generator, through Envoy, full speed)`;
    const changed = phasesOf(phases, 'load', 'envoy', null, variant);
    const standard = phasesOf(phases, 'load', 'envoy', null);
    rows.push(compare(section, 'Envoy CPU per call', 'ms', changed, standard, (p) => perCallMs(p).envoy, 'ratio'));
    rows.push(compare(section, 'npm start (supervisor) CPU per call', 'ms', changed, standard, (p) => perCallMs(p).supervisor, 'difference'));
    rows.push(compare(section, 'CPU per call, Envoy + replicas', 'ms', changed, standard, (p) => perCallMs(p).system, 'ratio'));
    rows.push(compare(section, 'throughput at full speed, calls/s', 'calls/s', changed, standard, (p) => p.figures.callsPerS, 'ratio'));
  }
  if (clients.includes('ghz')) {
    const section = 'the load generator vs ghz (through Envoy)';
    const load = (rate: number | null): Phase[] => phasesOf(phases, 'load', 'envoy', rate);
    const ghz = (rate: number | null): Phase[] => phasesOf(phases, 'ghz', 'envoy', rate);
    rows.push(compare(section, 'throughput at full speed, calls/s', 'calls/s', load(null), ghz(null), (p) => p.figures.callsPerS, 'ratio', atLeast(0.8, '≥ 0.8×')));
    rows.push(compare(section, 'client CPU per call at full speed', 'ms', load(null), ghz(null), (p) => perCallMs(p).client, 'ratio', atMost(1.5, '≤ 1.5×')));
    for (const rate of rates) {
      rows.push(compare(section, `client CPU per call at ${rate} calls/s`, 'ms', load(rate), ghz(rate), (p) => perCallMs(p).client, 'ratio'));
      for (const [key, label] of [['p50', 'p50'], ['p99', 'p99']] as const) {
        rows.push(compare(section, `${label} at ${rate} calls/s`, 'ms', load(rate), ghz(rate), (p) => p.figures.latencyMs?.[key] ?? Number.NaN, 'ratio', within(0.2, 'within ±20 %')));
      }
    }
  }
  return rows;
}
