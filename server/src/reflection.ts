import type { Server } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { FILE_DESCRIPTOR_PROTOS } from '../../gen/reflection/descriptors.js';

/**
 * Registers server reflection (v1 and v1alpha) describing greeter.v1.Greeter and grpc.health.v1.Health, so grpcurl
 * can list, describe and call both. The descriptors are buf's, generated into gen/ (see
 * scripts/gen/reflection-descriptors.ts for why not proto-loader's).
 */
export function addReflection(server: Server): void {
  // ReflectionService reads only `fileDescriptorProtos` from each entry of a package definition.
  const definition = {
    descriptors: { fileDescriptorProtos: FILE_DESCRIPTOR_PROTOS.map((file) => Buffer.from(file, 'base64')) },
  } as unknown as PackageDefinition;
  new ReflectionService(definition).addToServer(server);
}
