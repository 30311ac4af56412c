// The view registry: figure data type -> the module that checks and draws it (see doc/viewer.md).
// Adding a view type: one module in this folder and one line in types.js.
import * as TYPES from "./types.js";

const REGISTRY = new Map();

export function registerView(m) {
  if (typeof m.type !== "string" || typeof m.check !== "function" || typeof m.render !== "function") {
    throw new Error(`a view module must export type, check(data) and render(el, data, ctx) (got ${m.type})`);
  }
  if (REGISTRY.has(m.type)) throw new Error(`view type ${m.type} is registered twice`);
  REGISTRY.set(m.type, m);
}

for (const m of Object.values(TYPES)) registerView(m);

export function viewModule(type) { return REGISTRY.get(type) || null; }

export function registeredTypes() { return [...REGISTRY.keys()]; }
