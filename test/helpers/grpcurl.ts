// grpcurl, the gRPC peer the tests use from outside this codebase (Go, its own HTTP/2 and reflection client): what
// it accepts is what users' tools accept. `npm run setup:grpcurl` installs the pinned version into .tools/bin.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { findOnPath } from '../../scripts/cli/executables.js';
import { projectRoot } from '../../scripts/envoy/paths.js';
import { runCommand, type CommandResult } from './run-command.js';

/** Where grpcurl is: GRPCURL, then .tools/bin (setup:grpcurl), then PATH; undefined when nowhere. */
export function findGrpcurl(): string | undefined {
  const candidates = [process.env.GRPCURL, path.join(projectRoot, '.tools', 'bin', 'grpcurl')];
  for (const candidate of candidates) if (candidate && existsSync(candidate)) return candidate;
  return findOnPath('grpcurl');
}

/** Runs `grpcurl -plaintext <args>` (killed after 15 s) and collects what it printed. */
export function grpcurl(...args: string[]): Promise<CommandResult> {
  const binary = findGrpcurl();
  if (!binary) throw new Error('grpcurl not found: run `npm run setup:grpcurl` (needs Go), or set GRPCURL');
  return runCommand(binary, ['-plaintext', '-max-time', '10', ...args], { cwd: projectRoot, timeoutMs: 15_000 });
}
