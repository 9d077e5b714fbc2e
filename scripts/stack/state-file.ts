import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../envoy/index.js';

/** Where a running local system tells other commands (the lab) how to reach it. */
export interface StackStateFile {
  /** pid of the `npm start` process that owns every child. */
  pid: number;
  /** http://127.0.0.1:<port> of its stack control API. */
  controlUrl: string;
  startedAt: string;
}

/** LAB_STATE_FILE, or .lab/local-stack.json in the project: one running local system per file. */
export function stateFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.LAB_STATE_FILE;
  return fromEnv !== undefined && fromEnv !== '' ? path.resolve(fromEnv) : path.join(projectRoot, '.lab', 'local-stack.json');
}

/** Writes the state file atomically (write, then rename), so a reader never sees half of it. */
export function writeStateFile(file: string, state: StackStateFile): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temporary, file);
}

/** The state of a running system, or undefined when the file is missing or its owner is gone (a stale file). */
export function readStateFile(file: string): StackStateFile | undefined {
  let state: StackStateFile;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as StackStateFile;
  } catch {
    return undefined;
  }
  if (typeof state.pid !== 'number' || typeof state.controlUrl !== 'string' || !isAlive(state.pid)) return undefined;
  return state;
}

/** Removes the state file if it still belongs to `pid` (a newer system may have replaced it). */
export function removeStateFile(file: string, pid: number): void {
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as Partial<StackStateFile>;
    if (state.pid === pid) rmSync(file, { force: true });
  } catch {
    // Already gone, or never written.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
