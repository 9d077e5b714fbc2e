import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../envoy/index.js';

/** Where a running local system tells other commands (the lab) how to reach it. */
export interface StackStateFile {
  /** pid of the `npm start` process that owns every child. */
  pid: number;
  /** http://127.0.0.1:<port> of its stack control API. */
  controlUrl: string;
  /** The system's control secret (this file is readable by its owner alone). */
  token: string;
  startedAt: string;
  /** Its child processes (Envoy, the replicas) when it last changed, to find leftovers if it died. */
  processes: number[];
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
  // 0600: it holds the control token.
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

/** A state file that is there but is not one: the user points LAB_STATE_FILE at it, so say so, never guess. */
export class StateFileError extends Error {
  override name = 'StateFileError';
}

/**
 * What the state file says, or undefined when there is no file (no system started with it). A file that cannot be
 * read or is not a state file is an error, not "nothing runs": treating it as absent would let `lab down` report
 * success while a system runs, or a second `npm start` overwrite what the first wrote.
 */
function readState(file: string): StackStateFile | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateFileError(`cannot read the state file ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}); set LAB_STATE_FILE to a file path`);
  }
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    state = undefined;
  }
  if (!wellFormed(state)) {
    throw new StateFileError(`${file} is not a lab state file; remove it, or set LAB_STATE_FILE to another path`);
  }
  return state;
}

/** The state of a running system, or undefined when the file is missing or its owner is gone (a stale file). */
export function readStateFile(file: string): StackStateFile | undefined {
  const state = readState(file);
  return state !== undefined && isAlive(state.pid) ? state : undefined;
}

/** A state file whose `npm start` is gone (killed, crashed): what it last said, or undefined when there is none. */
export function readStaleStateFile(file: string): StackStateFile | undefined {
  const state = readState(file);
  return state !== undefined && !isAlive(state.pid) ? state : undefined;
}

function wellFormed(value: unknown): value is StackStateFile {
  if (value === null || typeof value !== 'object') return false;
  const state = value as Partial<StackStateFile>;
  return typeof state.pid === 'number' && typeof state.controlUrl === 'string' && typeof state.token === 'string' && Array.isArray(state.processes);
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

/**
 * True when `pid` still runs one of a local system's children (a replica or its Envoy), judged by its command line
 * (Linux /proc): a recorded pid may by now belong to something else entirely, which must not be killed.
 */
export function isLocalStackChild(pid: number): boolean {
  let commandLine: string;
  try {
    commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return false;
  }
  // A replica runs compiled (dist/server/src/main.js) under npm start; server/src/main.ts is `npm run server`'s.
  return /\b(?:dist\/server\/src\/main\.js|server\/src\/main\.ts)\b/.test(commandLine) || /\/envoy .*--base-id-path .*grpc-envoy-lab-/.test(commandLine);
}
