// The lab's verbs as the page sends them: checked with the very parsers the command line uses, carried out one at a
// time through the lab driver, and answered with one line saying what was done (or why not).
import { LB_POLICIES, type LbPolicy } from '../../envoy/index.js';
import { LabError, type LabDriver } from '../../drivers/index.js';
import { MAX_REPLICAS } from '../../stack/index.js';
import { parseCodeArg, parseHealthArg, parseLatencyArg, parseRateArg, type FaultStateView } from '../../../server/src/index.js';
import type { ActionRequest } from './snapshot.js';

const VERBS: readonly ActionRequest['verb'][] = ['scale', 'kill', 'stop', 'pause', 'resume', 'health', 'fail', 'latency', 'reset', 'policy'];

/** A request the page should not have sent: answered 400 with this one line. */
export class ActionRequestError extends Error {
  override name = 'ActionRequestError';
}

/** Checks an untrusted JSON body as an ActionRequest; throws ActionRequestError naming the first problem. */
export function parseActionRequest(body: unknown): ActionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ActionRequestError('the body must be a JSON object');
  const { verb, replica, value, code } = body as Record<string, unknown>;
  if (typeof verb !== 'string' || !VERBS.includes(verb as ActionRequest['verb'])) {
    throw new ActionRequestError(`verb must be one of ${VERBS.join(', ')}, got ${JSON.stringify(verb)}`);
  }
  for (const [name, field] of [['replica', replica], ['value', value], ['code', code]] as const) {
    if (field !== undefined && (typeof field !== 'string' || field.length > 200)) throw new ActionRequestError(`${name} must be a short string`);
  }
  const needsReplica = verb !== 'scale' && verb !== 'policy';
  if (needsReplica && !replica) throw new ActionRequestError(`${verb} needs a replica`);
  return {
    verb: verb as ActionRequest['verb'],
    ...(replica === undefined ? {} : { replica: replica as string }),
    ...(value === undefined ? {} : { value: value as string }),
    ...(code === undefined ? {} : { code: code as string }),
  };
}

/** Runs one verb through the driver; resolves with what it did, and the faults a replica reported, if any. */
export async function runAction(driver: LabDriver, action: ActionRequest): Promise<{ message: string; faults?: FaultStateView }> {
  const replica = action.replica ?? '';
  const value = action.value ?? '';
  const checked = <T>(parse: (raw: string) => T): T => {
    try {
      return parse(value);
    } catch (error) {
      throw new ActionRequestError(error instanceof Error ? error.message : String(error));
    }
  };
  const faults = async (patch: Parameters<LabDriver['setFaults']>[1]) => {
    const state = await driver.setFaults(replica, patch);
    return { message: `${action.verb} ${replica}: health ${state.health}, fail rate ${state.failRate} (${state.failCode}), latency ${state.latencyMs} ms`, faults: state };
  };
  switch (action.verb) {
    case 'scale': {
      const count = Number(value);
      if (!/^\d+$/.test(value) || count < 1 || count > MAX_REPLICAS) throw new ActionRequestError(`scale takes a replica count from 1 to ${MAX_REPLICAS}, got ${JSON.stringify(value)}`);
      await driver.scale(count);
      return { message: `scaled to ${count} replicas` };
    }
    case 'kill':
      await driver.kill(replica);
      return { message: `kill ${replica}: SIGKILL` };
    case 'stop':
      await driver.stop(replica);
      return { message: `stop ${replica}: stopped after its drain` };
    case 'pause':
      await driver.pause(replica);
      return { message: `pause ${replica}: frozen` };
    case 'resume':
      await driver.resume(replica);
      return { message: `resume ${replica}: running again` };
    case 'health':
      return faults({ health: checked(parseHealthArg) });
    case 'fail':
      return faults({ failRate: checked(parseRateArg), ...(action.code ? { failCode: checked(() => parseCodeArg(action.code ?? '')) } : {}) });
    case 'latency':
      return faults({ latencyMs: checked(parseLatencyArg) });
    case 'reset':
      return faults({ health: 'SERVING', failRate: 0, latencyMs: 0 });
    case 'policy': {
      const policy = value.toUpperCase().replace(/-/g, '_');
      if (!LB_POLICIES.includes(policy as LbPolicy)) throw new ActionRequestError(`policy must be one of ${LB_POLICIES.join(', ')}, got ${JSON.stringify(value)}`);
      await driver.setPolicy({ policy: policy as LbPolicy });
      return { message: `policy ${policy}: Envoy hot-restarted on it` };
    }
  }
}

/** A user-facing failure of a verb (an unknown replica, a system not up): its one line; anything else is rethrown. */
export function actionFailure(error: unknown): string {
  if (error instanceof LabError || error instanceof ActionRequestError) return error.message;
  throw error;
}
