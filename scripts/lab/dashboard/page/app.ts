// The dashboard page: once a second it reads /api/state and redraws the replica table and the charts (uPlot, loaded
// by index.html from the lab's own node_modules); its buttons send the lab's verbs and start experiments. Every API
// call carries the per-run token index.html holds.
import type { ActionRequest, DashboardMeta, DashboardSnapshot, ReplicaView } from '../snapshot.js';

const token = document.querySelector<HTMLMetaElement>('meta[name="lab-token"]')?.content ?? '';

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

async function api<T>(route: string, body?: unknown): Promise<T> {
  const response = await fetch(route, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'X-Lab-Token': token, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new Error(answer.error ?? `HTTP ${response.status}`);
  return answer;
}

function say(text: string, error = false): void {
  const status = element('status');
  status.textContent = text;
  status.className = error ? 'error' : '';
}

/** Sends one verb; the next snapshot shows its effect. */
async function act(action: ActionRequest): Promise<void> {
  say(`${action.verb} ${action.replica ?? ''} ${action.value ?? ''}…`);
  try {
    const done = await api<{ message: string }>('/api/action', action);
    say(done.message);
  } catch (error) {
    say((error as Error).message, true);
  }
}

function button(label: string, verb: ActionRequest['verb'], onClick: () => void): HTMLButtonElement {
  const made = document.createElement('button');
  made.textContent = label;
  made.dataset.verb = verb;
  made.addEventListener('click', onClick);
  return made;
}

function input(placeholder: string, name: string): HTMLInputElement {
  const made = document.createElement('input');
  made.placeholder = placeholder;
  made.name = name;
  return made;
}

interface Row {
  row: HTMLTableRowElement;
  cells: Record<'state' | 'envoy' | 'share' | 'calls' | 'errors' | 'p50' | 'p99' | 'faults', HTMLTableCellElement>;
  pause: HTMLButtonElement;
  health: HTMLButtonElement;
}

const rows = new Map<string, Row>();

/** The row of one replica, made once (so a half-typed rate survives the redraws) and updated every second. */
function rowFor(name: string): Row {
  const existing = rows.get(name);
  if (existing) return existing;
  const row = document.createElement('tr');
  row.dataset.replica = name;
  const cell = (className: string): HTMLTableCellElement => {
    const made = row.insertCell();
    made.className = className;
    return made;
  };
  cell('name').textContent = name;
  const cells = {
    state: cell('state'),
    envoy: cell('envoy'),
    share: cell('share'),
    calls: cell('number calls'),
    errors: cell('number errors'),
    p50: cell('number p50'),
    p99: cell('number p99'),
    faults: cell('faults'),
  };
  const verbs = cell('verbs');
  const rate = input('rate', 'fail-rate');
  const latency = input('ms', 'latency-ms');
  const made: Row = {
    row,
    cells,
    pause: button('pause', 'pause', () => void act({ verb: made.pause.dataset.verb === 'resume' ? 'resume' : 'pause', replica: name })),
    health: button('not-serving', 'health', () => void act({ verb: 'health', replica: name, value: made.health.textContent ?? '' })),
  };
  verbs.append(
    button('kill', 'kill', () => void act({ verb: 'kill', replica: name })),
    button('stop', 'stop', () => void act({ verb: 'stop', replica: name })),
    made.pause,
    made.health,
    rate,
    button('fail', 'fail', () => void act({ verb: 'fail', replica: name, value: rate.value || '0.5' })),
    latency,
    button('latency', 'latency', () => void act({ verb: 'latency', replica: name, value: latency.value || '200' })),
    button('reset', 'reset', () => void act({ verb: 'reset', replica: name })),
  );
  element<HTMLTableSectionElement>('replicas').tBodies[0]?.append(row);
  rows.set(name, made);
  return made;
}

const fixed = (value: number | null, digits = 1): string => (value === null ? '–' : value.toFixed(digits));

function drawRow(view: ReplicaView): void {
  const { row, cells, pause, health } = rowFor(view.name);
  row.className = `state-${view.state}`;
  cells.state.textContent = view.state;
  cells.envoy.textContent = view.envoy;
  cells.envoy.classList.toggle('unhealthy', view.envoy !== 'healthy');
  const percent = Math.round(view.share * 100);
  const bar = document.createElement('span');
  bar.className = 'bar';
  bar.style.width = `${Math.round(view.share * 60)}px`;
  cells.share.replaceChildren(bar, document.createTextNode(`${percent} %`));
  cells.calls.textContent = fixed(view.callsPerSecond);
  cells.errors.textContent = fixed(view.errorsPerSecond);
  cells.p50.textContent = fixed(view.p50Ms);
  cells.p99.textContent = fixed(view.p99Ms);
  const f = view.faults;
  cells.faults.textContent = f
    ? [
        f.health === 'SERVING' ? '' : f.health,
        f.failRate > 0 ? `fail ${Math.round(f.failRate * 100)} % ${f.failCode}` : '',
        f.latencyMs > 0 ? `+${f.latencyMs} ms` : '',
      ]
        .filter(Boolean)
        .join(', ') || 'none'
    : view.state === 'paused'
      ? 'paused (cannot answer)'
      : '–';
  const paused = view.state === 'paused';
  pause.textContent = paused ? 'resume' : 'pause';
  pause.dataset.verb = paused ? 'resume' : 'pause';
  health.textContent = f?.health === 'NOT_SERVING' ? 'serving' : 'not-serving';
}

/** One uPlot chart per figure; rebuilt when the set of replicas changes, fed new data otherwise. */
class ReplicaChart {
  private chart: uPlot | undefined;
  private names: string[] = [];

  constructor(
    private readonly container: HTMLElement,
    private readonly pick: (view: ReplicaView) => number | null,
  ) {}

  draw(history: readonly DashboardSnapshot[]): void {
    const names = [...new Set(history.flatMap((s) => s.replicas.map((r) => r.name)))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const data: uPlot.AlignedData = [
      history.map((s) => s.at / 1000),
      ...names.map((name) => history.map((s) => {
        const view = s.replicas.find((r) => r.name === name);
        return view ? this.pick(view) : null;
      })),
    ];
    if (!this.chart || names.join() !== this.names.join()) {
      this.chart?.destroy();
      this.names = names;
      const palette = ['#3b6fd8', '#d8633b', '#2e9e57', '#9b59b6', '#c9a227', '#17a2b8', '#e0457b', '#6c757d'];
      this.chart = new uPlot(
        {
          width: Math.max(360, this.container.clientWidth - 8),
          height: 200,
          series: [{}, ...names.map((name, i) => ({ label: name, stroke: palette[i % palette.length] ?? '#333', width: 2 }))],
          axes: [{}, { size: 50 }],
          legend: { live: false },
        },
        data,
        this.container,
      );
      return;
    }
    this.chart.setData(data);
  }
}

async function main(): Promise<void> {
  const meta = await api<DashboardMeta>('/api/meta');
  const policyChoice = element<HTMLSelectElement>('policy-choice');
  policyChoice.append(...meta.policies.map((p) => new Option(p, p)));
  const experimentChoice = element<HTMLSelectElement>('experiment-choice');
  experimentChoice.append(...meta.experiments.map((e) => new Option(`${e.name}: ${e.title}`, e.name)));
  element('scale').addEventListener('click', () => void act({ verb: 'scale', value: element<HTMLInputElement>('scale-count').value }));
  element('set-policy').addEventListener('click', () => void act({ verb: 'policy', value: policyChoice.value }));
  element('start-experiment').addEventListener('click', () => {
    const quick = element<HTMLInputElement>('experiment-quick').checked;
    api<{ started: string }>('/api/experiment', { name: experimentChoice.value, quick }).then(
      (answer) => say(`experiment ${answer.started} started`),
      (error: Error) => say(error.message, true),
    );
  });

  const charts = [
    new ReplicaChart(element('chart-calls'), (r) => r.callsPerSecond),
    new ReplicaChart(element('chart-errors'), (r) => r.errorsPerSecond),
    new ReplicaChart(element('chart-p99'), (r) => r.p99Ms),
  ];
  const history = await api<DashboardSnapshot[]>('/api/history');

  const refresh = async (): Promise<void> => {
    let state: DashboardSnapshot;
    try {
      state = await api<DashboardSnapshot>('/api/state');
    } catch (error) {
      say(`no answer from the dashboard: ${(error as Error).message}`, true);
      return;
    }
    if (history.at(-1)?.at !== state.at) history.push(state);
    while (history.length > meta.historyLength) history.shift();
    element('system').textContent = `driver ${state.driver}: ${state.system}`;
    element('policy').textContent = `policy ${state.policy}`;
    element('clock').textContent = new Date(state.at).toLocaleTimeString();
    element('window-note').textContent =
      `share, calls/s and errors/s: Envoy's per-host counters over the last second. p50/p99: the dashboard's own probe ` +
      `(${state.probeRate} calls/s through Envoy, ${state.probeFailed} failed), over a sliding window of the last ${state.latencyWindowS} s. ` +
      `retries: ${state.retriesPerSecond.toFixed(1)}/s.`;
    element('p50-head').textContent = `p50 ms (${state.latencyWindowS} s)`;
    element('p99-head').textContent = `p99 ms (${state.latencyWindowS} s)`;
    element('chart-p99-caption').textContent = `p99 of the probe's calls over ${state.latencyWindowS} s, ms`;
    for (const view of state.replicas) drawRow(view);
    for (const [name, row] of rows) {
      if (!state.replicas.some((r) => r.name === name)) {
        row.row.remove();
        rows.delete(name);
      }
    }
    if (state.busy) say(`${state.busy}…`);
    else if (state.message) say(state.message.text, state.message.error);
    for (const chart of charts) chart.draw(history);
    drawExperiment(state);
  };
  await refresh();
  setInterval(() => void refresh(), 1000);
}

function drawExperiment(state: DashboardSnapshot): void {
  const run = state.experiment;
  const section = element('experiment');
  section.hidden = run === null;
  if (!run) return;
  const title = element('experiment-title');
  title.textContent = `experiment ${run.name}: ${run.status}`;
  title.className = run.status;
  element('experiment-lines').replaceChildren(
    ...run.lines.map((line) => {
      const item = document.createElement('li');
      item.textContent = `${line.atS.toFixed(1)} s  ${line.text}`;
      return item;
    }),
  );
  element('experiment-figures').replaceChildren(
    ...run.figures.map((figure) => {
      const item = document.createElement('li');
      item.textContent = figure;
      return item;
    }),
  );
  element<HTMLButtonElement>('start-experiment').disabled = run.status === 'running';
}

main().catch((error: unknown) => say(`the dashboard could not start: ${(error as Error).message}`, true));
