import { Metadata, status, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import type { GreeterClient } from '../../../gen/greeter/v1/greeter.js';
import { statusName, type CallResult } from '../greeter-call.js';

/** Builds the metadata of one call from header pairs (a name may repeat). */
export function metadataOf(pairs: ReadonlyArray<readonly [string, string]>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of pairs) metadata.add(key, value);
  return metadata;
}

/**
 * Calls SayHello once with `metadata` and a deadline of `deadlineMs`; resolves with the outcome and never rejects.
 * The same contract as callGreeter in ../greeter-call.ts, which sends no metadata; an aborted `signal` cancels the
 * call, which then settles as CANCELLED.
 */
export function callGreeterWithMetadata(
  client: GreeterClient,
  name: string,
  metadata: Metadata,
  deadlineMs: number,
  signal?: AbortSignal,
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
      resolve(failure(status.UNKNOWN, error instanceof Error ? error.message : String(error), elapsed()));
    }
  });
}

function failureFrom(error: ServiceError, latencyMs: number): CallResult {
  const code = typeof error.code === 'number' ? error.code : status.UNKNOWN;
  return failure(code, error.details ?? error.message, latencyMs);
}

function failure(code: number, details: string, latencyMs: number): CallResult {
  return { ok: false, code, codeName: statusName(code), details, latencyMs };
}
