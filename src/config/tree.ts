import { EMBEDDED_DEFAULTS, type ServiceSection } from './defaults.ts';

/** A configuration tree (parsed YAML, or the embedded defaults), after validation against ConfigTree. */
export type Tree = Record<string, any>;

/** The value at a dotted path, or undefined when a step of the path is missing or not an object. */
export function get(tree: Tree, path: string): unknown {
  let cur: any = tree;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[k];
  }
  return cur;
}

/** Writes a value at a dotted path, creating (or replacing non-object) sections on the way. */
export function set(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur: any = tree;
  for (const k of keys.slice(0, -1)) {
    if (cur[k] === null || typeof cur[k] !== 'object' || Array.isArray(cur[k])) cur[k] = {};
    cur = cur[k];
  }
  cur[keys[keys.length - 1]] = value;
}

/** A tree value that is present and not null. */
export const val = <T>(v: unknown): T | undefined => (v === undefined || v === null ? undefined : (v as T));

export function isNonEmptyObject(v: unknown): v is Tree {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0;
}

/** `guards*` of the pipeline: `guards` if a non-empty object, else `gates` (gate.md 6.D11; an ENV overlay can create guards). */
export function pipelineGuards(tree: Tree): Tree {
  return isNonEmptyObject(tree.guards) ? tree.guards : isNonEmptyObject(tree.gates) ? tree.gates : {};
}

type Embedded = typeof EMBEDDED_DEFAULTS;
/** The type a YAML value of this key may have (the embedded value's literal type widened). */
type Setting<T> = T extends string ? string : T extends number ? number : T extends boolean ? boolean : T extends readonly string[] ? string[] : T;

/**
 * A key of a service section: the tree's value when present and not null, else the key's value in
 * EMBEDDED_DEFAULTS (a copy for lists). The section and key name both the tree key and its fallback, so
 * the two cannot drift apart; decision sections are not accepted (they fall back to CODE_DEFAULTS).
 */
export function serviceSetting<S extends ServiceSection, K extends keyof Embedded[S] & string>(tree: Tree, section: S, key: K): Setting<Embedded[S][K]> {
  const v = val((tree[section] as Tree | undefined)?.[key]);
  if (v !== undefined) return v as Setting<Embedded[S][K]>;
  const d: unknown = EMBEDDED_DEFAULTS[section][key];
  return (d !== null && typeof d === 'object' ? structuredClone(d) : d) as Setting<Embedded[S][K]>;
}
