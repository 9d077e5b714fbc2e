// The balancer scorecard, quick variant, on a real Compose project: the contenders as containers on the project's
// network (official image tags; stand-ins where no registry answers, `npm run setup:standins`), and none of them
// left behind.
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { DockerDriver } from '../../scripts/drivers/index.js';
import { ComposeProject } from '../helpers/compose-project.js';
import { testScorecard } from '../helpers/scorecard-run.js';

let project: ComposeProject;
let driver: DockerDriver;

beforeAll(async () => {
  project = await ComposeProject.create();
  await project.up(3);
  driver = project.driver();
}, 10 * 60_000);

afterAll(async () => {
  await project?.down();
}, 2 * 60_000);

testScorecard(() => driver, 15 * 60_000);

test('no contender container is left on the engine', async () => {
  const left = await new Docker().listContainers({ all: true, filters: { label: [`com.docker.compose.project=${project.name}`] } });
  expect(left.map((c) => c.Names[0]).filter((name) => name?.includes('-scorecard-'))).toEqual([]);
});
