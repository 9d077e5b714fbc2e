import { callGreeter, createGreeterClient } from '../greeter-call.js';
import { metadataOf } from './call-metadata.js';
import { LoadRunner } from './load-runner.js';
import type { ShardPlan } from './shard-plan.js';

/** A LoadRunner for `shard` calling over its own channel, which is closed once the runner has finished. */
export function runnerOnChannel(shard: ShardPlan): LoadRunner {
  const balancing = { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ [shard.balancing]: {} }] }) };
  const client = createGreeterClient(shard.target, balancing);
  const base = metadataOf(shard.metadata);
  const runner = new LoadRunner(shard, (key, signal) => {
    let metadata = base;
    if (key !== undefined && shard.keys) {
      metadata = base.clone();
      metadata.set(shard.keys.header, key);
    }
    return callGreeter(client, shard.name, shard.deadlineMs, signal, metadata);
  });
  void runner.finished.then(() => client.close());
  return runner;
}
