// The Envoy API's protobuf messages, loaded at run time from the .proto files @grpc/grpc-js-xds ships (the same
// definitions the proxyless client decodes with), and the one conversion the control plane needs: a resource written
// as Envoy's YAML/JSON config writes it (snake_case names, "1s" durations, bare numbers for wrapper types, "@type"
// inside an Any) into protobuf bytes. No generated code: the resources come from envoy.yaml, in envoy.yaml's form.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);
const depsRoot = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
// google/protobuf/descriptor.proto (which the validation annotations import) ships with protobufjs.
const INCLUDE_DIRS = [
  ...['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((dir) => path.join(depsRoot, dir)),
  path.dirname(require.resolve('protobufjs/package.json')),
];

/** Every message the control plane encodes or decodes, and every type an "@type" in the served resources names. */
const PROTO_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto',
];

/** A resource the Envoy API cannot carry (an unknown field, a malformed duration, an "@type" nobody loaded). */
export class EnvoyApiShapeError extends Error {
  override name = 'EnvoyApiShapeError';
}

let loaded: protobuf.Root | undefined;

/** The Envoy API, loaded once (about a second: a few hundred .proto files). */
export function envoyApi(): protobuf.Root {
  if (loaded) return loaded;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    // The well-known types protobufjs bundles (any, duration, wrappers, ...) resolve by their bare name.
    for (const dir of INCLUDE_DIRS) {
      const candidate = path.join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return target;
  };
  root.loadSync(PROTO_FILES, { keepCase: true });
  root.resolveAll();
  loaded = root;
  return root;
}

/** The message type `name` (e.g. envoy.config.cluster.v3.Cluster). */
export function messageType(name: string): protobuf.Type {
  return envoyApi().lookupType(name);
}

/** The type URL of a message type, as Any and the discovery protocol spell it. */
export function typeUrlOf(name: string): string {
  return `type.googleapis.com/${name}`;
}

type Json = Record<string, unknown>;

const WRAPPERS = new Set([
  '.google.protobuf.DoubleValue',
  '.google.protobuf.FloatValue',
  '.google.protobuf.Int64Value',
  '.google.protobuf.UInt64Value',
  '.google.protobuf.Int32Value',
  '.google.protobuf.UInt32Value',
  '.google.protobuf.BoolValue',
  '.google.protobuf.StringValue',
]);

/** Encodes `json` (Envoy's config form) as message type `name`. Throws EnvoyApiShapeError naming the bad path. */
export function encodeJson(name: string, json: Json): Uint8Array {
  const type = messageType(name);
  // prepare() checks names and shapes; fromObject then converts (enum names included) and encode writes the bytes.
  return type.encode(type.fromObject(prepare(type, json, name))).finish();
}

/** Decodes bytes of message type `name` into a plain object (snake_case, enums as names, longs as numbers). */
export function decodeMessage(name: string, bytes: Uint8Array): Json {
  const type = messageType(name);
  return type.toObject(type.decode(bytes), { enums: String, longs: Number, defaults: false, oneofs: true }) as Json;
}

/** "1s", "0.25s", "1.5s" (proto3 JSON durations) to protobufjs's {seconds, nanos}. */
function duration(value: string, where: string): Json {
  const match = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(value);
  if (!match) throw new EnvoyApiShapeError(`${where}: ${JSON.stringify(value)} is not a duration such as "1s" or "0.25s"`);
  const sign = match[1] ? -1 : 1;
  return { seconds: sign * Number(match[2]), nanos: sign * Number((match[3] ?? '').padEnd(9, '0')) };
}

/** Rewrites Envoy's config form of one message into the shape protobufjs's fromObject takes, type by type. */
function prepare(type: protobuf.Type, json: Json, where: string): Json {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new EnvoyApiShapeError(`${where}: expected an object for ${type.fullName.slice(1)}`);
  }
  const out: Json = {};
  for (const [key, value] of Object.entries(json)) {
    const field = type.fields[key];
    if (!field) throw new EnvoyApiShapeError(`${where}: ${type.fullName.slice(1)} has no field ${key}`);
    const at = `${where}.${key}`;
    if (field.map) {
      out[key] = Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, prepareValue(field, v, `${at}.${k}`)]));
    } else if (field.repeated) {
      if (!Array.isArray(value)) throw new EnvoyApiShapeError(`${at}: expected a list`);
      out[key] = value.map((v, i) => prepareValue(field, v, `${at}[${i}]`));
    } else {
      out[key] = prepareValue(field, value, at);
    }
  }
  return out;
}

function prepareValue(field: protobuf.Field, value: unknown, where: string): unknown {
  const resolved = field.resolve().resolvedType;
  if (resolved instanceof protobuf.Enum) {
    // fromObject would drop a misspelt name without a word; Envoy would have refused it.
    if (typeof value === 'string' && !(value in resolved.values)) {
      throw new EnvoyApiShapeError(`${where}: ${JSON.stringify(value)} is not a value of ${resolved.fullName.slice(1)}`);
    }
    return value;
  }
  if (!(resolved instanceof protobuf.Type)) return value; // scalars as they are
  const name = resolved.fullName;
  if (name === '.google.protobuf.Duration' && typeof value === 'string') return duration(value, where);
  if (WRAPPERS.has(name) && (typeof value !== 'object' || value === null)) return { value };
  if (name === '.google.protobuf.Any') {
    const { '@type': typeUrl, ...inner } = value as Json;
    if (typeof typeUrl !== 'string') throw new EnvoyApiShapeError(`${where}: an Any needs "@type"`);
    const innerName = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
    return { type_url: typeUrl, value: encodeJson(innerName, inner) };
  }
  return prepare(resolved, value as Json, where);
}
