import { status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { GreeterServer, SayHelloRequest, SayHelloResponse } from '../../gen/greeter/v1/greeter.js';
import { statusCodeOf, type FaultState } from './fault-state.js';
import type { Logger } from './log.js';
import type { MethodMetrics } from './metrics.js';
import { checkName } from './request-validation.js';

/** What the greeter handlers need from the rest of the server. */
export interface GreeterDeps {
  replica: string;
  faults: FaultState;
  log: Logger;
  logCalls: boolean;
  /** Counted for Prometheus: every SayHello call, its status code and its time. */
  metrics: MethodMetrics;
}

/**
 * Creates the greeter.v1.Greeter handlers.
 *
 * No handler ever calls call.sendMetadata(): every error then leaves grpc-js as a trailers-only
 * response (grpc-status in the first HEADERS frame), the only place Envoy looks when it decides
 * to retry a call or counts an error for outlier detection.
 */
export function createGreeterService({ replica, faults, log, logCalls, metrics }: GreeterDeps): GreeterServer {
  return {
    sayHello(call: ServerUnaryCall<SayHelloRequest, SayHelloResponse>, callback: sendUnaryData<SayHelloResponse>) {
      const started = performance.now();
      metrics.started();
      const { latencyMs } = faults.get();

      const answer = (): void => {
        // Faults are read again after the delay so a reset during a long latency takes effect at once.
        const { failRate, failCode } = faults.get();
        const outcome = decide(call.request, failRate, failCode, replica);
        metrics.finished(outcome.error?.code ?? status.OK, (performance.now() - started) / 1000);
        if (logCalls) {
          log('call', {
            peer: call.getPeer(),
            name: call.request.name,
            code: status[outcome.error?.code ?? status.OK],
            ms: Math.round(performance.now() - started),
            ...(outcome.error ? { details: outcome.error.details } : {}),
          });
        }
        if (outcome.error) {
          callback(outcome.error);
          return;
        }
        callback(null, outcome.reply);
      };

      if (latencyMs === 0) {
        answer();
        return;
      }
      let answered = false;
      const timer = setTimeout(() => {
        answered = true;
        answer();
      }, latencyMs);
      // A caller whose deadline expired gets nothing from us; don't keep a timer alive for it.
      call.once('cancelled', () => {
        clearTimeout(timer);
        if (!answered) metrics.finished(status.CANCELLED, (performance.now() - started) / 1000);
      });
    },
  };
}

type Outcome =
  | { error: { code: status; details: string }; reply?: undefined }
  | { error?: undefined; reply: SayHelloResponse };

// An injected failure wins over validation: it stands for a broken replica, which would fail any call.
function decide(request: SayHelloRequest, failRate: number, failCode: string, replica: string): Outcome {
  if (failRate > 0 && Math.random() < failRate) {
    return { error: { code: statusCodeOf(failCode), details: `injected failure on ${replica} (failRate ${failRate})` } };
  }
  const check = checkName(request.name);
  if (!check.ok) {
    return { error: { code: status.INVALID_ARGUMENT, details: check.reason } };
  }
  return { reply: { message: `Hello, ${check.name}! (from ${replica})`, hostname: replica } };
}
