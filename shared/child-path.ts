/**
 * `dir`/`name` for a directory path already normalised (as ArchwayPaths and real paths are) and a
 * name read from that directory or checked to be one component: what path.join would give, without
 * its normalising pass (status joins a few hundred such paths in code that runs once, and the CLI's
 * loader joins its own before anything else is warm). Pure.
 */
export function childPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}
