// Switches the load-balancing policy of cluster grpc_server in a copy of envoy.yaml, for `lab policy`.
//
// Form: the Cluster's own `lb_policy` enum plus its typed per-policy block (least_request_lb_config,
// ring_hash_lb_config, maglev_lb_config). On the pinned Envoy 1.40.0 none of these logs "Deprecated field" under
// `envoy --mode validate` (test/unit/envoy-policy.test.ts re-checks that with the real binary on every run, so an
// Envoy bump that deprecates them fails there), and it keeps envoy.yaml's own `lb_policy: ROUND_ROBIN` line as the
// one switch, so each derived file differs from envoy.yaml in as few lines as possible.
import YAML from 'yaml';
import { runningStaticResources } from './admin.js';
import { CLUSTER_NAME, EnvoyConfigShapeError, LISTENER_NAME } from './config.js';

/** Envoy load-balancing policies the lab can switch between. */
export const LB_POLICIES = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV'] as const;
export type LbPolicy = (typeof LB_POLICIES)[number];

/** A policy choice; hash policies are keyed on a request header (default x-lab-key). */
export interface PolicyChoice {
  policy: LbPolicy;
  /** Header whose value picks the replica for RING_HASH and MAGLEV; ignored by the others. */
  hashHeader?: string;
  /**
   * Envoy's healthy_panic_threshold in percent. envoy.yaml runs 0 (panic mode off); Envoy's own default is 50.
   * Left out: as envoy.yaml.
   */
  panicThresholdPercent?: number;
  /**
   * The route's per-try timeout in ms; 0 = none (a try may use the call's whole deadline). Left out: as
   * envoy.yaml (1 s).
   */
  perTryTimeoutMs?: number;
}

/** A choice the user got wrong (unknown policy, bad header name, threshold out of range): one line, a usage error. */
export class PolicyChoiceError extends Error {
  override name = 'PolicyChoiceError';
}

/** The request header RING_HASH and MAGLEV hash on when the choice names none. */
export const DEFAULT_HASH_HEADER = 'x-lab-key';

/** The policies that pick a replica from a hash of a request header (and so need a route hash policy). */
const HASH_POLICIES: readonly LbPolicy[] = ['RING_HASH', 'MAGLEV'];

/** The Cluster's per-policy blocks; every derivation removes all of them first, so no policy keeps another's tuning. */
const LB_CONFIG_KEYS = ['least_request_lb_config', 'ring_hash_lb_config', 'maglev_lb_config', 'round_robin_lb_config'];

// RFC 9110 token characters, lowercase only: HTTP/2 (and so gRPC metadata) sends header names in lowercase,
// and Envoy would never see an uppercase name it was told to hash on.
const HEADER_TOKEN = /^[a-z0-9!#$%&'*+\-.^_`|~]+$/;

const HCM = 'envoy.filters.network.http_connection_manager';

/** Why each policy balances as it does: the comment on its `lb_policy` line. */
const POLICY_REASONS: Record<LbPolicy, string> = {
  ROUND_ROBIN: 'Each call goes to the next healthy replica in turn.',
  LEAST_REQUEST: 'lab policy: each call goes to whichever of two random replicas has fewer calls in flight.',
  RANDOM: 'lab policy: each call goes to a healthy replica picked at random, independently of every other call.',
  RING_HASH: 'lab policy: calls with the same hash header value go to the same replica (consistent hash ring).',
  MAGLEV: 'lab policy: same-key calls go to one replica via a fixed-size Maglev table (even spread, O(1) pick).',
};

/** A scalar with the reason for its value, printed as its line's comment. */
type Reasoned = [value: number | string, reason: string];

/** The Cluster block each policy adds next to `lb_policy`, line by line with its reason. */
const POLICY_BLOCK: Partial<Record<LbPolicy, { key: string; reason: string; lines: Record<string, Reasoned> }>> = {
  LEAST_REQUEST: {
    key: 'least_request_lb_config',
    reason: 'How many replicas LEAST_REQUEST compares for each call.',
    lines: {
      choice_count: [2, 'Power of two choices: near full-scan balance; concurrent picks do not herd onto one replica.'],
    },
  },
  RING_HASH: {
    key: 'ring_hash_lb_config',
    reason: "Sizes RING_HASH's ring, which decides how evenly keys spread over replicas.",
    lines: {
      minimum_ring_size: [1024, 'Envoy default, spelt out: ~340 points per replica (of 3) keep key shares near even.'],
      maximum_ring_size: [8192, 'Bounds memory and rebuild time per scale (default 8M); only uneven weights need more.'],
    },
  },
  MAGLEV: {
    key: 'maglev_lb_config',
    reason: "Sizes MAGLEV's lookup table, which decides how evenly keys spread over replicas.",
    lines: {
      table_size: [65537, 'Envoy default, spelt out: prime; over 100 slots per replica keep shares within ~1 % of even.'],
    },
  },
};

/** Checks a choice; returns it as policyOf reads it back (hash header defaulted for hash policies, else dropped). */
export function normalizePolicyChoice(choice: PolicyChoice): PolicyChoice {
  if (!LB_POLICIES.includes(choice.policy)) {
    const known = LB_POLICIES.join(', ');
    throw new PolicyChoiceError(`unknown load-balancing policy ${JSON.stringify(choice.policy)} (one of ${known})`);
  }
  // Validated even for policies that ignore it: a mistyped header is a mistake to report, not to drop silently.
  if (choice.hashHeader !== undefined && !HEADER_TOKEN.test(choice.hashHeader)) {
    throw new PolicyChoiceError(
      `invalid hash header ${JSON.stringify(choice.hashHeader)}: use a lowercase HTTP header name such as ${DEFAULT_HASH_HEADER}`,
    );
  }
  const panic = choice.panicThresholdPercent;
  if (panic !== undefined && !(Number.isFinite(panic) && panic >= 0 && panic <= 100)) {
    throw new PolicyChoiceError(`panic threshold must be a percentage from 0 to 100, got ${JSON.stringify(panic)}`);
  }
  const perTry = choice.perTryTimeoutMs;
  if (perTry !== undefined && !(Number.isInteger(perTry) && perTry >= 0 && perTry <= 60_000)) {
    throw new PolicyChoiceError(`per-try timeout must be whole milliseconds from 0 (none) to 60000, got ${JSON.stringify(perTry)}`);
  }
  // envoy.yaml's own values (panic 0, per-try 1 s) read back as "left out".
  const extras = {
    ...(panic !== undefined && panic !== 0 ? { panicThresholdPercent: panic } : {}),
    ...(perTry !== undefined && perTry !== ENVOY_YAML_PER_TRY_TIMEOUT_MS ? { perTryTimeoutMs: perTry } : {}),
  };
  if (!HASH_POLICIES.includes(choice.policy)) return { policy: choice.policy, ...extras };
  return { policy: choice.policy, hashHeader: choice.hashHeader ?? DEFAULT_HASH_HEADER, ...extras };
}

/** envoy.yaml's per_try_timeout (1s); test/unit/envoy-policy.test.ts checks that the file still says so. */
export const ENVOY_YAML_PER_TRY_TIMEOUT_MS = 1000;

/** "1s", "0.25s", "250ms" (Envoy's Duration in YAML or /config_dump) to milliseconds. */
function durationMs(value: unknown): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(String(value));
  if (!match) throw new EnvoyConfigShapeError(`unreadable duration ${JSON.stringify(value)} in the Envoy config`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

/**
 * Derives an Envoy config from envoy.yaml (or a config already derived from it) in which cluster grpc_server
 * balances with `choice.policy`; RING_HASH and MAGLEV also get a route hash policy on `choice.hashHeader`.
 * Nothing else changes, comments included. Compose it with deriveLocalEnvoyConfig by applying this one first.
 */
export function derivePolicyConfig(baseYaml: string, choice: PolicyChoice): string {
  const normalized = normalizePolicyChoice(choice);
  const doc = YAML.parseDocument(baseYaml);
  if (doc.errors.length > 0) throw new EnvoyConfigShapeError(`envoy.yaml does not parse: ${doc.errors[0]?.message}`);

  const cluster = clusterPath(doc);
  const clusterMap = doc.getIn(cluster);
  if (!YAML.isMap(clusterMap)) throw new EnvoyConfigShapeError(`envoy.yaml: cluster ${CLUSTER_NAME} is not a map`);
  if (clusterMap.has('load_balancing_policy')) {
    // It takes precedence over lb_policy, so switching lb_policy would change nothing.
    throw new EnvoyConfigShapeError(`envoy.yaml: cluster ${CLUSTER_NAME} uses load_balancing_policy; expected lb_policy`);
  }
  for (const key of LB_CONFIG_KEYS) clusterMap.delete(key);
  const routes = routePaths(doc);
  for (const route of routes) doc.deleteIn([...route, 'hash_policy']);

  setWithReason(doc, [...cluster, 'lb_policy'], normalized.policy, POLICY_REASONS[normalized.policy]);
  const block = POLICY_BLOCK[normalized.policy];
  if (block) {
    // Right after lb_policy, so the policy and its tuning read together.
    insertPairAfter(clusterMap, 'lb_policy', keyedPair(doc, block.key, block.reason, commentedMap(doc, block.lines)));
  }

  // Left out means envoy.yaml's 0 (off), so switching from a derived config also undoes an earlier threshold.
  const panicPath = [...cluster, 'common_lb_config', 'healthy_panic_threshold', 'value'];
  const panic = normalized.panicThresholdPercent ?? 0;
  if (Number(doc.getIn(panicPath)) !== panic) {
    const reason =
      panic === 0
        ? 'lab policy: panic mode off, as envoy.yaml.'
        : `lab policy: panic mode when under ${panic} % of replicas are healthy (envoy.yaml: off).`;
    setWithReason(doc, panicPath, panic, reason);
  }

  // Left out means envoy.yaml's 1 s; 0 removes the per-try timeout, so a try may use the call's whole deadline.
  // Only routes that retry have tries to time out (health Check and reflection do not).
  const perTryMs = normalized.perTryTimeoutMs ?? ENVOY_YAML_PER_TRY_TIMEOUT_MS;
  for (const route of routes.filter((r) => doc.hasIn([...r, 'retry_policy']))) {
    const path = [...route, 'retry_policy', 'per_try_timeout'];
    if (perTryMs === 0) {
      doc.deleteIn(path);
    } else if (!doc.hasIn(path) || durationMs(doc.getIn(path)) !== perTryMs) {
      const reason =
        perTryMs === ENVOY_YAML_PER_TRY_TIMEOUT_MS
          ? 'lab policy: back to envoy.yaml\'s 1 s per try.'
          : `lab policy: a try that takes longer than ${perTryMs} ms is abandoned and retried elsewhere.`;
      const node = doc.createNode(`${perTryMs / 1000}s`);
      node.comment = ` ${reason}`;
      doc.setIn(path, node);
    }
  }

  if (normalized.hashHeader !== undefined) {
    for (const route of routes) {
      const header = commentedMap(doc, {
        header_name: [normalized.hashHeader, 'Same value, same replica; a call without it goes to a random replica.'],
      });
      const policy = new YAML.YAMLMap();
      policy.items.push(keyedPair(doc, 'header', 'Hash one request header, which a gRPC client sends as metadata.', header));
      const list = new YAML.YAMLSeq();
      list.items.push(policy);
      const reason = `lab policy: what ${normalized.policy} hashes to pick a replica.`;
      // Right after `cluster:`, so the hash reads next to the cluster it picks in.
      insertPairAfter(doc.getIn(route) as YAML.YAMLMap, 'cluster', keyedPair(doc, 'hash_policy', reason, list));
    }
  }

  // On the first key, not on the document: deriveLocalEnvoyConfig replaces the document's comment with its own,
  // and a local run's file should still say which policy it runs.
  doc.commentBefore = null;
  const firstPair = YAML.isMap(doc.contents) ? doc.contents.items[0] : undefined;
  if (!firstPair || !YAML.isScalar(firstPair.key)) throw new EnvoyConfigShapeError('envoy.yaml: the top level is not a map');
  const hashNote =
    (normalized.hashHeader ? `, hashed on header ${normalized.hashHeader}` : '') +
    (normalized.panicThresholdPercent !== undefined ? `, panic threshold ${normalized.panicThresholdPercent} %` : '') +
    (normalized.perTryTimeoutMs !== undefined ? `, per-try timeout ${normalized.perTryTimeoutMs || 'none'} ms` : '');
  firstPair.key.commentBefore =
    ` Derived from envoy.yaml by scripts/envoy/policy.ts for \`lab policy\`; do not edit.\n` +
    ` Cluster ${CLUSTER_NAME} balances with ${normalized.policy}${hashNote}; nothing else differs from envoy.yaml.`;
  firstPair.key.spaceBefore = false;
  return doc.toString({ lineWidth: 0 });
}

// Parsed Envoy config (a YAML file or the JSON of /config_dump): walked by known paths, so loose typing is enough.
type Json = Record<string, any>;

/**
 * The policy a config runs (a file from derivePolicyConfig, envoy.yaml itself, or Envoy's static resources as
 * /config_dump shows them), in the form normalizePolicyChoice gives.
 */
export function policyOf(configYaml: string): PolicyChoice {
  const config = YAML.parse(configYaml) as Json | null;
  const clusters: Json[] = config?.static_resources?.clusters ?? [];
  const cluster = clusters.find((c) => c?.name === CLUSTER_NAME);
  if (!cluster) throw new EnvoyConfigShapeError(`the Envoy config has no cluster named ${CLUSTER_NAME}`);
  if (cluster.load_balancing_policy !== undefined) {
    throw new EnvoyConfigShapeError(`cluster ${CLUSTER_NAME} uses load_balancing_policy, which the lab does not read`);
  }
  // Absent means Envoy's default, ROUND_ROBIN; /config_dump leaves that default value out.
  const policy = (cluster.lb_policy ?? 'ROUND_ROBIN') as unknown;
  if (!LB_POLICIES.includes(policy as LbPolicy)) {
    throw new EnvoyConfigShapeError(`cluster ${CLUSTER_NAME} runs lb_policy ${String(policy)}, which the lab does not switch to`);
  }
  // A config without healthy_panic_threshold runs Envoy's default, 50 %; envoy.yaml's 0 reads back as left out.
  const threshold = cluster.common_lb_config?.healthy_panic_threshold;
  const panic = threshold === undefined ? 50 : Number(threshold.value ?? 0);
  const perTryValues = routesTo(config ?? {}).filter((route) => route.retry_policy !== undefined).map((route) => {
    const value = route.retry_policy?.per_try_timeout;
    return value === undefined ? 0 : durationMs(value);
  });
  const perTry = perTryValues[0] ?? ENVOY_YAML_PER_TRY_TIMEOUT_MS;
  const panicPart = {
    ...(panic !== 0 ? { panicThresholdPercent: panic } : {}),
    ...(perTry !== ENVOY_YAML_PER_TRY_TIMEOUT_MS ? { perTryTimeoutMs: perTry } : {}),
  };
  if (!HASH_POLICIES.includes(policy as LbPolicy)) return { policy: policy as LbPolicy, ...panicPart };

  const headers = new Set<string>();
  for (const route of routesTo(config ?? {})) {
    const names = ((route.hash_policy ?? []) as Json[]).map((h) => h?.header?.header_name);
    if (names.length !== 1 || typeof names[0] !== 'string') {
      throw new EnvoyConfigShapeError(`${String(policy)} needs exactly one header hash policy on each route to ${CLUSTER_NAME}`);
    }
    headers.add(names[0]);
  }
  if (headers.size !== 1) {
    throw new EnvoyConfigShapeError(`${String(policy)}: the routes to ${CLUSTER_NAME} hash on ${headers.size} different headers`);
  }
  return { policy: policy as LbPolicy, hashHeader: [...headers][0] as string, ...panicPart };
}

/** Every route action (the `route:` map) that sends calls to grpc_server, in a parsed config. */
function routesTo(config: Json): Json[] {
  const listeners: Json[] = config.static_resources?.listeners ?? [];
  const listener = listeners.find((l) => l?.name === LISTENER_NAME);
  if (!listener) throw new EnvoyConfigShapeError(`the Envoy config has no listener named ${LISTENER_NAME}`);
  const found: Json[] = [];
  for (const chain of (listener.filter_chains ?? []) as Json[]) {
    for (const filter of (chain.filters ?? []) as Json[]) {
      if (filter.name !== HCM) continue;
      for (const host of (filter.typed_config?.route_config?.virtual_hosts ?? []) as Json[]) {
        for (const route of (host.routes ?? []) as Json[]) {
          if (route.route?.cluster === CLUSTER_NAME) found.push(route.route);
        }
      }
    }
  }
  if (found.length === 0) throw new EnvoyConfigShapeError(`no route of listener ${LISTENER_NAME} goes to cluster ${CLUSTER_NAME}`);
  return found;
}

function clusterPath(doc: YAML.Document): (string | number)[] {
  return ['static_resources', 'clusters', indexByName(doc, ['static_resources', 'clusters'], CLUSTER_NAME)];
}

/** Document paths of every route action that sends calls to grpc_server (the same walk as routesTo). */
function routePaths(doc: YAML.Document): (string | number)[][] {
  const listener = ['static_resources', 'listeners', indexByName(doc, ['static_resources', 'listeners'], LISTENER_NAME)];
  const paths: (string | number)[][] = [];
  const chains = doc.getIn([...listener, 'filter_chains']);
  for (const [c] of YAML.isSeq(chains) ? chains.items.entries() : []) {
    const filters = doc.getIn([...listener, 'filter_chains', c, 'filters']);
    for (const [f, filter] of YAML.isSeq(filters) ? filters.items.entries() : []) {
      if (!YAML.isMap(filter) || filter.get('name') !== HCM) continue;
      const hostsPath = [...listener, 'filter_chains', c, 'filters', f, 'typed_config', 'route_config', 'virtual_hosts'];
      const hosts = doc.getIn(hostsPath);
      for (const [h] of YAML.isSeq(hosts) ? hosts.items.entries() : []) {
        const routes = doc.getIn([...hostsPath, h, 'routes']);
        for (const [r] of YAML.isSeq(routes) ? routes.items.entries() : []) {
          const route = [...hostsPath, h, 'routes', r, 'route'];
          if (doc.getIn([...route, 'cluster']) === CLUSTER_NAME) paths.push(route);
        }
      }
    }
  }
  if (paths.length === 0) {
    throw new EnvoyConfigShapeError(`envoy.yaml: no route of listener ${LISTENER_NAME} goes to cluster ${CLUSTER_NAME}`);
  }
  return paths;
}

function indexByName(doc: YAML.Document, path: string[], name: string): number {
  const list = doc.getIn(path);
  const index = YAML.isSeq(list) ? list.items.findIndex((item) => YAML.isMap(item) && item.get('name') === name) : -1;
  if (index < 0) throw new EnvoyConfigShapeError(`envoy.yaml has no ${path.at(-1)} entry named ${name}`);
  return index;
}

/** Sets a scalar and replaces its comment, so the derived file never shows a reason that is no longer true. */
function setWithReason(doc: YAML.Document, path: (string | number)[], value: string | number, reason: string): void {
  if (!doc.hasIn(path)) throw new EnvoyConfigShapeError(`envoy.yaml has no ${path.join('.')}`);
  const node = doc.createNode(value);
  node.comment = ` ${reason}`;
  doc.setIn(path, node);
}

/** A block map whose every line carries its reason. */
function commentedMap(doc: YAML.Document, lines: Record<string, Reasoned>): YAML.YAMLMap {
  const map = new YAML.YAMLMap();
  for (const [key, [value, reason]] of Object.entries(lines)) {
    const node = doc.createNode(value);
    node.comment = ` ${reason}`;
    map.items.push(doc.createPair(key, node));
  }
  return map;
}

/** `key: <value>` with the reason on the key's line (for a block value, the line that opens it). */
function keyedPair(doc: YAML.Document, key: string, reason: string, value: YAML.Node): YAML.Pair {
  const keyNode = doc.createNode(key);
  keyNode.comment = ` ${reason}`;
  return doc.createPair(keyNode, value);
}

/** Inserts `pair` right after the entry `afterKey` of `map` (or first, when there is none). */
function insertPairAfter(map: YAML.YAMLMap, afterKey: string, pair: YAML.Pair): void {
  const at = map.items.findIndex((item) => YAML.isScalar(item.key) && item.key.value === afterKey) + 1;
  map.items.splice(at, 0, pair);
}

/** The policy the running Envoy at `adminUrl` balances with: read from its own /config_dump, the truth after any hot restart. */
export async function runningPolicy(adminUrl: string): Promise<PolicyChoice> {
  return policyOf(JSON.stringify(await runningStaticResources(adminUrl)));
}
