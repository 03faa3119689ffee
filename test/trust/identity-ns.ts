/**
 * A private binfmt_misc instance whose user namespace maps every uid and gid to itself (host root
 * writes the maps), so files owned by ordinary users keep their owners inside it — needed to test
 * the helper's "what could the caller read" rule with real owners. tmpfs over /var/lib, /var/log and
 * /etc/binfmt.d makes the real system paths (the only ones the helper uses under PKEXEC_UID)
 * private too. Nothing of the host's table or state is touched.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { runArgv, type PrivateBinfmt } from '../kernel/namespace';

export async function identityBinfmt(opts: { tmpfsSize?: string } = {}): Promise<PrivateBinfmt> {
  if (process.getuid?.() !== 0) throw new Error('this test needs root (it maps every uid into a user namespace)');
  const holder = spawn('unshare', ['--user', '--mount', '--propagation', 'private', 'sleep', 'infinity'], { stdio: 'ignore' });
  const pid = holder.pid!;
  const exited = new Promise((r) => holder.once('exit', r));
  // The holder is inside its namespace once it has exec'd sleep.
  for (let i = 0; i < 500; i++) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep')) break;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  writeFileSync(`/proc/${pid}/uid_map`, '0 0 4294967295');
  writeFileSync(`/proc/${pid}/gid_map`, '0 0 4294967295');
  const enter = (argv: string[]) => ['nsenter', '-t', String(pid), '-U', '-m', '--', ...argv];
  const close = async () => {
    holder.kill('SIGKILL');
    await exited;
  };
  const mounts: string[][] = [
    ['mount', '-t', 'binfmt_misc', 'binfmt_misc', '/proc/sys/fs/binfmt_misc'],
    ['mount', '-t', 'tmpfs', '-o', `size=${opts.tmpfsSize ?? '256m'},mode=0755`, 'archway-store-lib', '/var/lib'],
    ['mount', '-t', 'tmpfs', '-o', 'size=4m,mode=0755', 'archway-store-log', '/var/log'],
    ['mount', '-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'archway-store-etc', '/etc/binfmt.d'],
  ];
  for (const m of mounts) {
    const r = await runArgv(enter(m));
    if (r.code !== 0) {
      await close();
      throw new Error(`${m.join(' ')}: ${r.stderr.trim()} (binfmt_misc per user namespace needs Linux ≥ 6.7)`);
    }
  }
  return {
    pid,
    run: (argv, o = {}) => runArgv(enter(argv), o),
    snapshot: async () => {
      const r = await runArgv(
        enter([
          process.execPath,
          '-e',
          "const fs=require('fs');const d='/proc/sys/fs/binfmt_misc';const o={};for(const n of fs.readdirSync(d).sort())if(n!=='register')o[n]=fs.readFileSync(d+'/'+n,'utf8');process.stdout.write(JSON.stringify(o))",
        ]),
      );
      if (r.code !== 0) throw new Error(`snapshot failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as Record<string, string>;
    },
    close,
  };
}
