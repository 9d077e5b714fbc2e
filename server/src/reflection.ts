import type { Server } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { dirname } from 'node:path';
import { findProtosDir, GREETER_PROTO } from './proto-files.js';

// grpc-health-check ships health.proto at <pkg>/proto/health/v1/health.proto; its import path is health/v1/...
const HEALTH_PROTO = 'health/v1/health.proto';
const HEALTH_PROTOS_DIR = dirname(dirname(dirname(healthProtoPath)));

/** Registers server reflection describing greeter.v1.Greeter and grpc.health.v1.Health, so grpcurl can list both. */
export function addReflection(server: Server): void {
  const definition = loadSync([GREETER_PROTO, HEALTH_PROTO], {
    includeDirs: [findProtosDir(), HEALTH_PROTOS_DIR],
  });
  new ReflectionService(definition).addToServer(server);
}
