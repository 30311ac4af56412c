// WorkspaceFeatures: the workspace viewer's PCA features of one unit / pair view of two (js/features.js). Like
// WorkspaceTraces it starts its own tasks, so it exists only in the workspace viewer. Data: {type, workspace: true}.
import { mountFeatures } from "../features.js";

export const type = "WorkspaceFeatures";
export const resizes = false;

export function check(data) {
  return data.workspace === true ? null : "workspace must be true: PCA features are a view of the workspace viewer";
}

export function render(el) {
  if (el.dataset.mounted) return;  // mounted once; it redraws itself
  el.dataset.mounted = "1";
  mountFeatures(el);
}
