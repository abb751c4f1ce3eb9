import { readdirSync, readFileSync } from 'node:fs';

/**
 * What a process tree costs, read from /proc: resident memory and CPU time of a process
 * and all its descendants. The production API is started through npm and tsx (today) or
 * straight with node, so the tree, not one pid, is what a host pays for.
 */

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux (getconf CLK_TCK)

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: parse after the last ')'.
    const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null; // exited meanwhile
  }
}

function rssKb(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** The pid and every live descendant. */
export function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push(stat.pid);
    children.set(stat.ppid, siblings);
  }
  const tree: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** VmRSS of one process, MB (0 once it is gone): for processes started straight with node, cheaper than a tree walk. */
export function processRssMb(pid: number): number {
  return rssKb(pid) / 1024;
}

export interface TreeUsage {
  /** Sum of VmRSS over the tree, MB (shared pages count once per process, as `ps` shows them). */
  rssMb: number;
  /** VmRSS of the largest process alone, MB. */
  largestRssMb: number;
  processes: number;
  /** CPU time used so far by the live processes of the tree, ms. */
  cpuMs: number;
}

export function treeUsage(rootPid: number): TreeUsage {
  let rss = 0;
  let largest = 0;
  let ticks = 0;
  const pids = processTree(rootPid);
  for (const pid of pids) {
    const kb = rssKb(pid);
    rss += kb;
    largest = Math.max(largest, kb);
    ticks += readStat(pid)?.cpuTicks ?? 0;
  }
  return { rssMb: rss / 1024, largestRssMb: largest / 1024, processes: pids.length, cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND };
}
