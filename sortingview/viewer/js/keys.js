// Keyboard shortcuts: move through units, label, merge; "?" shows the list.
import { labelChoices, mergeSelected, toggleLabel, unmergeSelected } from "./curation.js";
import { update, writeUrlState } from "./store.js";
import { el } from "./views/common.js";
import { displayedOrder, moveSelection, selectKeys } from "./selection.js";

export const SHORTCUTS = [
  ["↓ / j", "next unit (shift: extend the selection)"],
  ["↑ / k", "previous unit (shift: extend the selection)"],
  ["1 … 9 (or shift+1 … 9)", "toggle label choice 1 … 9 on the selected units"],
  ["m", "merge the selected units"],
  ["u", "unmerge the selected units"],
  ["ctrl+a", "select all units"],
  ["Esc", "clear the selection"],
  ["w / c", "show waveforms / autocorrelograms"],
  ["x / a", "show cross-correlograms / spike amplitudes"],
  ["t / f", "show raw traces / PCA features"],
  ["o", "overlay the selected units' waveforms"],
  ["?", "show this help"],
];

const TAB_KEYS = { w: "waveforms", c: "autocorrelograms", x: "crosscorrelograms", a: "amplitudes", t: "traces", f: "features" };

export function installKeys() {
  document.addEventListener("keydown", (ev) => {
    if (ev.target.closest("input, textarea, dialog, select")) return;
    const k = ev.key;
    if (k === "ArrowDown" || k === "j") moveSelection(1, ev.shiftKey);
    else if (k === "ArrowUp" || k === "k") moveSelection(-1, ev.shiftKey);
    else if ((ev.ctrlKey || ev.metaKey) && k === "a") selectKeys(displayedOrder(), null);
    else if (ev.shiftKey && /^Digit[1-9]$/.test(ev.code || "")) {
      // shift+N as in views figures (and the original SortingCuration2): the same as N
      const label = labelChoices()[Number(ev.code.slice(5)) - 1];
      if (label) toggleLabel(label);
    }
    else if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    else if (/^[1-9]$/.test(k)) {
      const label = labelChoices()[Number(k) - 1];
      if (label) toggleLabel(label);
    } else if (k === "m") mergeSelected();
    else if (k === "u") unmergeSelected();
    else if (k === "Escape") selectKeys([], null);
    else if (Object.hasOwn(TAB_KEYS, k)) { update({ view: TAB_KEYS[k] }); writeUrlState(); }
    else if (k === "?") document.querySelector("#help-dialog").showModal();
    else if (k === "o") {
      const box = document.querySelector("#overlay");
      box.checked = !box.checked;
      box.dispatchEvent(new Event("change"));
    }
    else return;
    ev.preventDefault();
  });
  const list = document.querySelector("#help-list");
  list.replaceChildren(...SHORTCUTS.map(([key, what]) => el("tr", {}, el("td", {}, el("kbd", {}, key)), el("td", {}, what))));
  document.querySelector("#help-close").addEventListener("click", () => document.querySelector("#help-dialog").close());

}
