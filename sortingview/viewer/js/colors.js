// Unit colours: the same colour for a unit in every view of a page.
import { COLORS, unitColor } from "./plot.js";
import { state } from "./store.js";

// A unit's colour, the same in every view (waveforms, amplitudes, features, traces)
export function colorOf(key) {
  const first = key.includes("+") && !state.unitIds.some((u) => String(u) === key) ? key.split("+")[0] : key;
  return unitColor(Math.max(0, state.unitIds.findIndex((u) => String(u) === first)));
}

const SPARE = [...COLORS, "#bcbd22", "#393b79", "#7f7f7f", "#e7ba52", "#637939", "#843c39"];

// Colours of units drawn together: each its own colour (colorOf), unless an earlier unit of the set already has
// it (the palette repeats every few units); then the first colour nobody in the set uses
export function colorsFor(keys) {
  const out = new Map();
  const used = new Set();
  for (const k of keys) {
    let c = colorOf(k);
    if (used.has(c)) c = SPARE.find((x) => !used.has(x)) || c;
    used.add(c);
    out.set(k, c);
  }
  return out;
}
