// dist/ is rebuilt whenever a source is newer than the last build, so npm start and the tests never run stale code.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { COMPILED_CLIENT_ENTRY, COMPILED_SERVER_ENTRY, staleReason } from '../../scripts/stack/compiled-entries.js';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function touch(file: string, secondsAgo: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '');
  const at = Date.now() / 1000 - secondsAgo;
  utimesSync(file, at, at);
}

test('dist/ is missing, current, or stale since a named source changed', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'grpc-envoy-lab-dist-'));
  roots.push(root);
  touch(path.join(root, 'server', 'src', 'main.ts'), 100);
  touch(path.join(root, 'tsconfig.json'), 100);
  expect(staleReason(root)).toBe('dist/ is missing');
  touch(path.join(root, COMPILED_SERVER_ENTRY), 50);
  touch(path.join(root, COMPILED_CLIENT_ENTRY), 50);
  touch(path.join(root, 'dist', '.build-stamp'), 50);
  expect(staleReason(root)).toBeUndefined();
  touch(path.join(root, 'client', 'src', 'load', 'load-loop.ts'), 10);
  expect(staleReason(root)).toBe(`${path.join('client', 'src', 'load', 'load-loop.ts')} changed since the last build`);
});
