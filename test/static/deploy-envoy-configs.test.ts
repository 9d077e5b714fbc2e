// deploy/swarm/envoy.yaml and deploy/kubernetes/envoy.yaml are committed, so they can drift from envoy.yaml. Each
// must be byte for byte what envoy.yaml derives today (`npm run derive:envoy` writes them), and must pass the real
// Envoy's validation with no deprecated field, as envoy.yaml itself does.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireEnvoy, type EnvoyBinary } from '../../scripts/envoy/binary.js';
import { DEPLOY_ENVOY_CONFIGS } from '../../scripts/envoy/deploy-configs.js';
import { envoyYamlPath, projectRoot } from '../../scripts/envoy/paths.js';
import { findUncommentedSettings } from './envoy-comment-rule.js';
import { describeResult, killRunningCommands, runCommand } from '../helpers/run-command.js';

const base = readFileSync(envoyYamlPath, 'utf8');
let envoy: EnvoyBinary;

beforeAll(async () => {
  envoy = await requireEnvoy((line) => process.stderr.write(`${line}\n`));
}, 300_000);

afterEach(() => {
  killRunningCommands();
});

describe.each(DEPLOY_ENVOY_CONFIGS)('$file ($orchestrator)', ({ file, derive }) => {
  it('is what envoy.yaml derives today', () => {
    const committed = readFileSync(path.join(projectRoot, file), 'utf8');
    expect(committed === derive(base), `${file} is stale: run \`npm run derive:envoy\` and commit it`).toBe(true);
  });

  it('gives every setting under static_resources a # reason, the derived lines too', () => {
    const problems = findUncommentedSettings(readFileSync(path.join(projectRoot, file), 'utf8'));
    expect(problems.map((problem) => `${file}:${problem.line}: ${problem.text}`).join('\n')).toBe('');
  });

  it('would be caught drifting: a changed setting in envoy.yaml changes the derivation', () => {
    const changed = base.replace('lb_policy: ROUND_ROBIN', 'lb_policy: LEAST_REQUEST');
    expect(changed).not.toBe(base);
    expect(derive(changed)).not.toBe(readFileSync(path.join(projectRoot, file), 'utf8'));
  });

  it('passes envoy --mode validate with no deprecated field or option', async () => {
    const result = await runCommand(envoy.path, ['--mode', 'validate', '--disable-hot-restart', '-c', file], {
      cwd: projectRoot,
      timeoutMs: 20_000,
    });
    expect(result.code, describeResult(result)).toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain('OK');
    expect(`${result.stdout}${result.stderr}`, describeResult(result)).not.toMatch(/deprecated (?:field|option|value)/i);
  }, 30_000);
});

it('npm run derive:envoy -- --check finds every committed file up to date', async () => {
  const result = await runCommand(process.execPath, ['--import', 'tsx', 'scripts/envoy/derive-deploy.ts', '--check'], {
    cwd: projectRoot,
    timeoutMs: 20_000,
  });
  expect(result.code, describeResult(result)).toBe(0);
  for (const { file } of DEPLOY_ENVOY_CONFIGS) expect(result.stdout).toContain(`${file} is up to date`);
}, 25_000);

it('the L4 balancer the Swarm test runs in place of a virtual IP: a reason on every setting, and valid', async () => {
  const file = 'test/fixtures/swarm/l4-balancer.yaml';
  const problems = findUncommentedSettings(readFileSync(path.join(projectRoot, file), 'utf8'));
  expect(problems.map((problem) => `${file}:${problem.line}: ${problem.text}`).join('\n')).toBe('');
  const result = await runCommand(envoy.path, ['--mode', 'validate', '--disable-hot-restart', '-c', file], {
    cwd: projectRoot,
    timeoutMs: 20_000,
  });
  expect(result.code, describeResult(result)).toBe(0);
}, 30_000);
