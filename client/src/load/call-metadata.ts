import { Metadata } from '@grpc/grpc-js';

/** Builds the metadata of one call from header pairs (a name may repeat). */
export function metadataOf(pairs: ReadonlyArray<readonly [string, string]>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of pairs) metadata.add(key, value);
  return metadata;
}
