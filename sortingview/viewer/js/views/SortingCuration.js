// SortingCuration (the older control view): the same panel as SortingCuration2, with the standard label choices.
import * as Curation2 from "./SortingCuration2.js";

export const type = "SortingCuration";
export const uses = Curation2.uses;
export const control = true;

export function check(data) { return Curation2.check(data); }

export function render(root, data, ctx) { Curation2.render(root, { ...data, labelChoices: undefined }, ctx); }
