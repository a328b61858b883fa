import type { StateSpec } from './keyed-state.js';

/**
 * The handle of one declared piece of state (value, list or map), reading and writing the bound
 * key's slot (`slot()`, replaced as the operator moves from key to key) and calling `write()` on
 * every change, so the operator knows to store the key.
 */
export function stateHandle(
  n: string,
  spec: StateSpec,
  slot: () => Record<string, unknown>,
  write: () => void,
): unknown {
  if (spec.kind === 'value') {
    return {
      get: () => slot()[n],
      set: (v: unknown) => ((slot()[n] = v), write()),
      clear: () => (delete slot()[n], write()),
    };
  }
  if (spec.kind === 'list') {
    const list = () => (slot()[n] ??= []) as unknown[];
    return {
      get: () => (slot()[n] as unknown[] | undefined) ?? [],
      add: (v: unknown) => {
        const l = list();
        l.push(v);
        if (l.length > spec.maxLength) l.splice(0, l.length - spec.maxLength);
        write();
      },
      clear: () => (delete slot()[n], write()),
    };
  }
  const entries = () => (slot()[n] ??= []) as [unknown, unknown][];
  const find = (k: unknown) => entries().findIndex((e) => e[0] === k);
  return {
    get: (k: unknown) => entries().find((e) => e[0] === k)?.[1],
    set: (k: unknown, v: unknown) => {
      const i = find(k);
      if (i >= 0) entries()[i]![1] = v;
      else entries().push([k, v]);
      write();
    },
    delete: (k: unknown) => {
      const i = find(k);
      if (i >= 0) entries().splice(i, 1);
      write();
    },
    entries: () => entries().map((e) => [e[0], e[1]]),
    get size() {
      return entries().length;
    },
    clear: () => (delete slot()[n], write()),
  };
}
