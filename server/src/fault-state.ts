import { status } from '@grpc/grpc-js';

/** Health reported through grpc.health.v1 for every service of this server. */
export type HealthStatus = 'SERVING' | 'NOT_SERVING';

/** Every gRPC status name a failure can be injected with (OK would not be a failure). */
export const FAIL_CODE_NAMES: readonly string[] = Object.keys(status).filter(
  (key) => Number.isNaN(Number(key)) && key !== 'OK',
);

/** The writable part of the fault state, as the control API and CLI speak it. */
export interface FaultSettings {
  health: HealthStatus;
  failRate: number;
  failCode: string;
  latencyMs: number;
}

/** The full state as GET /state returns it. */
export interface FaultStateView extends FaultSettings {
  replica: string;
}

/** A partial update: only the fields present change. */
export type FaultPatch = Partial<FaultSettings>;

/** Longest injectable latency; beyond a minute every client deadline has long expired. */
export const MAX_LATENCY_MS = 60_000;

/** A patch that is malformed or out of range; the message is one line for the user. */
export class FaultPatchError extends Error {
  override name = 'FaultPatchError';
}

/** A valid patch that cannot apply now (the server is draining); the message is one line. */
export class FaultConflictError extends Error {
  override name = 'FaultConflictError';
}

const DEFAULTS: FaultSettings = { health: 'SERVING', failRate: 0, failCode: 'UNAVAILABLE', latencyMs: 0 };
const WRITABLE_FIELDS = Object.keys(DEFAULTS);

/** Validates an untrusted JSON value as a FaultPatch; throws FaultPatchError naming the first problem. */
export function parseFaultPatch(body: unknown): FaultPatch {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new FaultPatchError(`body must be a JSON object with any of ${WRITABLE_FIELDS.join(', ')}`);
  }
  const patch: FaultPatch = {};
  for (const [key, value] of Object.entries(body)) {
    switch (key) {
      case 'health':
        if (value !== 'SERVING' && value !== 'NOT_SERVING') {
          throw new FaultPatchError(`health must be "SERVING" or "NOT_SERVING", got ${JSON.stringify(value)}`);
        }
        patch.health = value;
        break;
      case 'failRate':
        if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
          throw new FaultPatchError(`failRate must be a number 0-1, got ${JSON.stringify(value)}`);
        }
        patch.failRate = value;
        break;
      case 'failCode':
        if (typeof value !== 'string' || !FAIL_CODE_NAMES.includes(value)) {
          throw new FaultPatchError(
            `failCode must be a gRPC status name other than OK (e.g. UNAVAILABLE, INTERNAL), got ${JSON.stringify(value)}`,
          );
        }
        patch.failCode = value;
        break;
      case 'latencyMs':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_LATENCY_MS) {
          throw new FaultPatchError(`latencyMs must be an integer 0-${MAX_LATENCY_MS}, got ${JSON.stringify(value)}`);
        }
        patch.latencyMs = value;
        break;
      default:
        throw new FaultPatchError(`unknown field ${JSON.stringify(key)}; allowed: ${WRITABLE_FIELDS.join(', ')}`);
    }
  }
  return patch;
}

/** Numeric gRPC status for a name from FAIL_CODE_NAMES. */
export function statusCodeOf(name: string): status {
  const code = (status as unknown as Record<string, number | undefined>)[name];
  if (code === undefined) throw new FaultPatchError(`unknown gRPC status name ${JSON.stringify(name)}`);
  return code;
}

/** Listener told about every change, with the state before it. */
export type FaultStateListener = (next: FaultStateView, previous: FaultStateView) => void;

/** The injected faults and health of this replica, changed through the control API. */
export class FaultState {
  private settings: FaultSettings = { ...DEFAULTS };
  private draining = false;
  private readonly listeners: FaultStateListener[] = [];

  constructor(private readonly replica: string) {}

  /** A snapshot of the current state. */
  get(): FaultStateView {
    return { replica: this.replica, ...this.settings };
  }

  /** Applies a validated patch and returns the new state. */
  update(patch: FaultPatch): FaultStateView {
    // Once shutdown has begun, SERVING would invite Envoy to route calls to a replica about to exit.
    if (this.draining && patch.health === 'SERVING') {
      throw new FaultConflictError('server is shutting down; health stays NOT_SERVING');
    }
    return this.replace({ ...this.settings, ...patch });
  }

  /** Back to SERVING, no failures, no latency (health stays NOT_SERVING while draining). */
  reset(): FaultStateView {
    return this.replace({ ...DEFAULTS, health: this.draining ? 'NOT_SERVING' : 'SERVING' });
  }

  /** Marks the server as shutting down: NOT_SERVING from now on, whatever the control API asks. */
  beginDrain(): FaultStateView {
    this.draining = true;
    return this.replace({ ...this.settings, health: 'NOT_SERVING' });
  }

  /** True once beginDrain() ran: the replica is shutting down. */
  isDraining(): boolean {
    return this.draining;
  }

  /** Registers a listener for every change. */
  onChange(listener: FaultStateListener): void {
    this.listeners.push(listener);
  }

  private replace(next: FaultSettings): FaultStateView {
    const previous = this.get();
    this.settings = next;
    const current = this.get();
    for (const listener of this.listeners) listener(current, previous);
    return current;
  }
}
