// The drivers' front door: one contract (LabDriver) over the two ways the system runs, Compose containers (docker)
// and local processes (local), and the rule that picks one.
export { LabError, type XdsCost, type EnvoyProcess, type LabDriver, type LabReplica, type UpPorts } from './driver.js';
export { chooseDriver, type DriverChoice } from './choose-driver.js';
export { createDockerDriver, dockerAvailable, DockerDriver } from './docker-driver.js';
export { LocalDriver } from './local-driver.js';
