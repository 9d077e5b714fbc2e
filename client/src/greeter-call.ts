/**
 * One SayHello call and the channel it goes over. A call's outcome is a value (OK with the replica that answered,
 * or a status), never an exception, so every caller counts every call the same way; the channel is tuned to come
 * back quickly after Envoy or the replicas were down, which is what the lab wants to show.
 */
import { Metadata, credentials, status, type ChannelOptions, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { GreeterClient } from '../../gen/greeter/v1/greeter.js';

/** Outcome of one SayHello call; failures are values, never exceptions. */
export type CallResult =
  | { ok: true; hostname: string; message: string; latencyMs: number; code: 0 }
  | { ok: false; code: number; codeName: string; details: string; latencyMs: number };

/**
 * Channel options that let the one long-lived channel come back quickly after Envoy or every replica was down.
 * grpc-js defaults (1 s initial, 120 s max backoff, 30 s between DNS lookups) would leave the client failing for
 * up to two minutes after the target is back, which hides exactly what the lab wants to show.
 */
export const RECOVERY_CHANNEL_OPTIONS = {
  // Retry a refused or dropped connection soon, and never wait longer than a second between attempts.
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 1000,
  // A recreated Envoy container can come back on a new IP; re-resolve its name soon after a connection fails.
  'grpc.dns_min_time_between_resolutions_ms': 1000,
  // Detect a peer that vanished without closing the TCP connection (killed container, dropped network):
  // deadlines alone fail the calls but keep the dead connection.
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  // Pinging an idle connection gains nothing here (a call goes out every interval) and servers may punish it.
  'grpc.keepalive_permit_without_calls': 0,
} as const satisfies ChannelOptions;

/** Creates a Greeter client on one insecure channel to `target`, tuned to reconnect quickly. */
export function createGreeterClient(target: string, options: ChannelOptions = {}): GreeterClient {
  return new GreeterClient(target, credentials.createInsecure(), { ...RECOVERY_CHANNEL_OPTIONS, ...options });
}

/** The grpc status name for a code, e.g. 14 -> "UNAVAILABLE". */
export function statusName(code: number): string {
  const name = (status as unknown as Record<number, string | undefined>)[code];
  return name ?? `CODE_${code}`;
}

/**
 * Calls SayHello once with a deadline of `deadlineMs` (and `metadata`, e.g. a ring-hash key header); resolves
 * with the outcome and never rejects. An aborted `signal` cancels the call, which then settles as CANCELLED.
 */
export function callGreeter(
  client: GreeterClient,
  name: string,
  deadlineMs: number,
  signal?: AbortSignal,
  metadata: Metadata = new Metadata(),
): Promise<CallResult> {
  const startedAt = performance.now();
  const elapsed = (): number => performance.now() - startedAt;
  return new Promise<CallResult>((resolve) => {
    if (signal?.aborted) {
      resolve(failure(status.CANCELLED, 'cancelled before start', elapsed()));
      return;
    }
    let call: ClientUnaryCall | undefined;
    const cancel = (): void => call?.cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      call = client.sayHello({ name }, metadata, { deadline: Date.now() + deadlineMs }, (error, response) => {
        signal?.removeEventListener('abort', cancel);
        if (error) {
          resolve(failureFrom(error, elapsed()));
          return;
        }
        resolve({ ok: true, hostname: response.hostname, message: response.message, latencyMs: elapsed(), code: 0 });
      });
    } catch (error) {
      signal?.removeEventListener('abort', cancel);
      // grpc-js throws synchronously only for misuse such as a closed channel; report it like any failed call.
      resolve(unexpectedFailure(error, elapsed()));
    }
  });
}

/**
 * A call that threw or rejected although calls are meant never to (misuse, such as a closed channel): reported as
 * an UNKNOWN failure, so it is still counted once.
 */
export function unexpectedFailure(error: unknown, latencyMs = 0): CallResult {
  return failure(status.UNKNOWN, error instanceof Error ? error.message : String(error), latencyMs);
}

function failureFrom(error: ServiceError, latencyMs: number): CallResult {
  const code = typeof error.code === 'number' ? error.code : status.UNKNOWN;
  return failure(code, error.details ?? error.message, latencyMs);
}

function failure(code: number, details: string, latencyMs: number): CallResult {
  return { ok: false, code, codeName: statusName(code), details, latencyMs };
}
