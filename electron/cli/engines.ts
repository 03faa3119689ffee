/**
 * `archway engines` — the container engines on this machine, what each is, which one Archway
 * uses; `archway engines use NAME|SOCKET|default` — remember a choice for this user.
 */
import { chooseEngine, listEngines, type ContainerEngineOffer } from '../container/engines';
import { ContainerEngineError } from '../container/errors';
import { EXIT } from './exit-codes';

export interface EnginesIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env?: NodeJS.ProcessEnv;
}

export const ENGINES_USAGE = `Usage: archway engines [--json]
       archway engines use NAME|SOCKET|default

Lists the container engines on this machine (Docker and Podman, rootful and rootless): what each
is, its version, and which one Archway uses. Archway picks its engine as the docker CLI does —
DOCKER_HOST, then DOCKER_CONTEXT, then the engine chosen here, then the current context of
$DOCKER_CONFIG/config.json, then /var/run/docker.sock — and never switches to another socket by
itself. \`use\` remembers a choice for your user ($XDG_CONFIG_HOME/archway/engine.json) after
checking that an engine answers there; \`use default\` forgets it.
  NAME     docker, docker-rootless, podman, podman-rootless (as listed)
  SOCKET   /path/to/engine.sock, or an address: unix:///…, tcp://HOST:PORT, ssh://USER@HOST
Exit status: 0 ok, 2 usage error, 3 the engine named does not answer.
`;

/** Untrusted text (an engine's own words) without control characters, for a terminal. */
const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');

export function formatEngines(offers: ContainerEngineOffer[]): string {
  const rows = offers.map((o) => [
    o.current ? '*' : ' ',
    o.name,
    o.error ? 'unavailable' : clean(o.engine ?? '?'),
    o.error ? '-' : clean(o.version ?? '?'),
    o.error ? '-' : o.rootless ? 'yes' : 'no',
    o.endpoint || '-',
    o.what,
  ]);
  const head = [' ', 'NAME', 'ENGINE', 'VERSION', 'ROOTLESS', 'ENDPOINT', 'WHAT'];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const lines = all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
  const notes = offers.filter((o) => o.error).map((o) => `${o.name}: ${clean(o.error!.message)}${o.error!.hint ? `\n  → ${clean(o.error!.hint)}` : ''}`);
  return `${lines.join('\n')}\n${notes.length ? `\n${notes.join('\n')}\n` : ''}`;
}

export async function runEnginesCommand(argv: string[], io: EnginesIo): Promise<number> {
  const env = io.env ?? process.env;
  const json = argv.includes('--json');
  const rest = argv.filter((a) => a !== '--json');
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(ENGINES_USAGE);
    return EXIT.ok;
  }
  const unknown = rest.find((a) => a.startsWith('-'));
  if (unknown) {
    io.stderr(`archway engines: unknown option ${unknown}\n\n${ENGINES_USAGE}`);
    return EXIT.usage;
  }
  if (rest.length === 0) {
    const offers = await listEngines({ env });
    io.stdout(json ? `${JSON.stringify(offers, null, 2)}\n` : formatEngines(offers));
    return EXIT.ok;
  }
  if (rest[0] !== 'use' || rest.length !== 2) {
    io.stderr(`archway engines: ${rest[0] === 'use' ? 'use takes one NAME, SOCKET or default' : `unknown subcommand "${rest[0]}"`}\n\n${ENGINES_USAGE}`);
    return EXIT.usage;
  }
  try {
    const r = await chooseEngine(rest[1]!, { env });
    if (json) io.stdout(`${JSON.stringify({ ok: true, ...r })}\n`);
    else if (r.host) io.stdout(`Archway now uses ${r.engine} at ${r.host} (remembered in ${r.file}).\n`);
    else io.stdout(`Archway forgets its engine choice (${r.file}): it uses what the docker CLI would.\n`);
    const wins = env.DOCKER_HOST ? 'DOCKER_HOST' : env.DOCKER_CONTEXT ? 'DOCKER_CONTEXT' : undefined;
    if (wins) io.stderr(`Note: ${wins} is set in this shell and wins over the choice while it is set.\n`);
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof ContainerEngineError)) throw err;
    if (json) io.stdout(`${JSON.stringify({ ok: false, error: err.toJSON() })}\n`);
    io.stderr(`archway engines: ${clean(err.message)}${err.hint ? `\n  → ${clean(err.hint)}` : ''}\nNothing was changed.\n`);
    return err.code === 'invalid-request' || err.code === 'bad-endpoint' ? EXIT.usage : EXIT.unavailable;
  }
}
