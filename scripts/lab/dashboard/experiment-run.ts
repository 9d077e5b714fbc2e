// One experiment at a time, started from the page: the harness's own runExperiment, its log lines kept as the
// phases the page shows while it runs, and the report's figures once it is done.
import { EXPERIMENTS, formatBound, formatValue, runExperiment } from '../../experiments/index.js';
import type { LabDriver } from '../../drivers/index.js';
import type { ExperimentView } from './snapshot.js';

export class ExperimentRun {
  private current: ExperimentView | null = null;

  /** The experiment running now, or the last one. */
  get view(): ExperimentView | null {
    return this.current;
  }

  get running(): boolean {
    return this.current?.status === 'running';
  }

  /** Starts `name` in the background; throws (one line) for an unknown name or while another one runs. */
  start(driver: LabDriver, name: string, quick: boolean, log: (line: string) => void): void {
    const experiment = EXPERIMENTS.find((e) => e.name === name);
    if (!experiment) throw new Error(`unknown experiment ${JSON.stringify(name)}; one of ${EXPERIMENTS.map((e) => e.name).join(', ')}`);
    if (this.running) throw new Error(`experiment ${this.current?.name} is still running`);
    const startedAt = Date.now();
    const view: ExperimentView = { name, status: 'running', lines: [], figures: [] };
    this.current = view;
    const note = (text: string): void => {
      view.lines.push({ atS: Math.round((Date.now() - startedAt) / 100) / 10, text });
      log(`experiment ${name}: ${text}`);
    };
    note(`started${quick ? ' (quick)' : ''}: ${experiment.title}`);
    runExperiment(experiment, driver, { quick, log: note }).then(
      (report) => {
        view.figures = report.figures.map(
          (f) => `${f.bound ? (f.pass ? '✓ ' : '✗ ') : ''}${f.name}: ${formatValue(f.value)}${f.unit ? ` ${f.unit}` : ''}${f.bound ? ` (${formatBound(f)})` : ''}`,
        );
        view.status = report.pass ? 'passed' : 'failed';
        note(report.pass ? 'PASS' : 'FAIL');
      },
      (error: unknown) => {
        view.status = 'error';
        note(`stopped: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      },
    );
  }
}
