// CPU time of a local balancer from /proc: its own and its live descendants' (nginx's workers), plus what reaped
// children used. Linux only, like the rest of the local stack's process handling.
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ): 100 on every Linux the kit runs on. */
const TICKS_PER_S = 100;

interface ProcStat {
  ppid: number;
  /** utime + stime + cutime + cstime, in ticks. */
  ticks: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // Exited between the listing and the read.
  }
  // The command name (field 2) may hold spaces and parentheses: the fields after it start at the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const number = (i: number): number => Number(fields[i] ?? 0);
  // After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
  return { ppid: number(1), ticks: number(11) + number(12) + number(13) + number(14) };
}

/** CPU seconds used by `pid` and every live process below it. */
export function processTreeCpuSeconds(pid: number): number {
  const stats = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) stats.set(Number(entry), stat);
  }
  const tree = new Set([pid]);
  // Parents have lower pids only usually: repeat until no process joins.
  for (let grew = true; grew; ) {
    grew = false;
    for (const [child, stat] of stats) {
      if (!tree.has(child) && tree.has(stat.ppid)) {
        tree.add(child);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const member of tree) ticks += stats.get(member)?.ticks ?? 0;
  return ticks / TICKS_PER_S;
}
