/**
 * A small YAML writer for plain JSON data (what Kubernetes manifests are), with comment lines
 * before each document. Every string is written double-quoted with JSON's escapes (a valid YAML
 * double-quoted scalar), so no value can turn into a number, a boolean, a comment or a new key;
 * keys are plain only when they cannot be read as anything else. Pure.
 */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json | undefined };

export interface YamlDocument {
  /** Comment lines (without '#') printed before the document. */
  comments?: readonly string[];
  value: Json;
}

/** YAML 1.1 and 1.2 words a plain scalar would turn into something other than a string. */
const SPECIAL = /^(?:y|n|yes|no|on|off|true|false|null|~)$/i;

function key(k: string): string {
  return /^[A-Za-z][A-Za-z0-9_./-]*$/.test(k) && !SPECIAL.test(k) ? k : JSON.stringify(k);
}

function scalar(v: null | boolean | number | string): string {
  if (v === null) return 'null';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`yaml: ${v} is not a finite number`);
    return String(v);
  }
  return typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

type Node = { inline: string } | { lines: string[] };

function node(v: Json, indent: number): Node {
  if (v === null || typeof v !== 'object') return { inline: scalar(v) };
  const pad = ' '.repeat(indent);
  if (Array.isArray(v)) {
    if (v.length === 0) return { inline: '[]' };
    const lines: string[] = [];
    for (const item of v as readonly Json[]) {
      const n = node(item, indent + 2);
      if ('inline' in n) lines.push(`${pad}- ${n.inline}`);
      else lines.push(`${pad}- ${n.lines[0]!.slice(indent + 2)}`, ...n.lines.slice(1));
    }
    return { lines };
  }
  const obj = v as { readonly [k: string]: Json | undefined };
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
  if (keys.length === 0) return { inline: '{}' };
  const lines: string[] = [];
  for (const k of keys) {
    const n = node(obj[k]!, indent + 2);
    if ('inline' in n) lines.push(`${pad}${key(k)}: ${n.inline}`);
    else lines.push(`${pad}${key(k)}:`, ...n.lines);
  }
  return { lines };
}

/** One value as YAML lines (no trailing newline). */
export function toYaml(v: Json): string {
  const n = node(v, 0);
  return 'inline' in n ? n.inline : n.lines.join('\n');
}

/** Several documents, each preceded by `---` and its comments, ending with a newline. */
export function yamlDocuments(docs: readonly YamlDocument[]): string {
  return docs
    .map((d) => {
      const comments = (d.comments ?? []).flatMap((c) => c.split('\n')).map((c) => (c === '' ? '#' : `# ${c}`));
      return ['---', ...comments, toYaml(d.value)].join('\n');
    })
    .join('\n')
    .concat('\n');
}
