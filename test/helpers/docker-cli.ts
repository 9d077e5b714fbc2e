// The docker CLI, for what only it does (docker stack deploy, docker swarm init, docker build): one command at a
// time, bounded in time, and a failure that says in one line what failed and why.
import { execFile } from 'node:child_process';

export interface DockerCliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** SIGKILLed after this long, so a hung command fails its test instead of hanging the run. Default 60 s. */
  timeoutMs?: number;
}

/** Runs `docker <args>` and resolves with its stdout; rejects with the command and docker's last error line. */
export function docker(args: readonly string[], options: DockerCliOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'docker',
      args,
      {
        env: options.env ?? process.env,
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 60_000,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const last = stderr.split('\n').filter((line) => line.trim() !== '').at(-1) ?? error.message.split('\n')[0];
        const how = error.killed ? 'timed out' : `exit ${String(error.code)}`;
        reject(new Error(`docker ${args.join(' ')} failed (${how}): ${last}`));
      },
    );
  });
}
