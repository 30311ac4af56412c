// WorkspaceTraces: the workspace viewer's raw traces (js/traces.js). Unlike the other view types it starts its
// own timeseries tasks and follows the page state itself, so it exists only in the workspace viewer; it is
// registered so that every view of that page comes from the registry. Data: {type, workspace: true}.
import { mountTraces } from "../traces.js";

export const type = "WorkspaceTraces";
export const resizes = false;

export function check(data) {
  return data.workspace === true ? null : "workspace must be true: raw traces are a view of the workspace viewer";
}

export function render(el) {
  if (el.dataset.mounted) return;  // mounted once; it redraws itself
  el.dataset.mounted = "1";
  mountTraces(el);
}
