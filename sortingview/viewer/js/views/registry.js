// The view registry: figure data type -> the module that checks and draws it (see doc/viewer.md).
// Adding a view type: one module in this folder and one line here.
import * as UnitsTable from "./UnitsTable.js";
import * as Autocorrelograms from "./Autocorrelograms.js";
import * as SortingCuration from "./SortingCuration.js";
import * as SortingCuration2 from "./SortingCuration2.js";
import * as SortingSelection from "./SortingSelection.js";
import * as RasterPlot from "./RasterPlot.js";
import * as UnitLocations from "./UnitLocations.js";
import * as SpikeLocations from "./SpikeLocations.js";
import * as UnitSimilarityMatrix from "./UnitSimilarityMatrix.js";
import * as ConfusionMatrix from "./ConfusionMatrix.js";
import * as UnitMetricsGraph from "./UnitMetricsGraph.js";
import * as ElectrodeGeometry from "./ElectrodeGeometry.js";
import * as UnitImages from "./UnitImages.js";
import * as Summary from "./Summary.js";

const MODULES = [
  UnitsTable,
  Autocorrelograms,
  SortingCuration,
  SortingCuration2,
  SortingSelection,
  RasterPlot,
  UnitLocations,
  SpikeLocations,
  UnitSimilarityMatrix,
  ConfusionMatrix,
  UnitMetricsGraph,
  ElectrodeGeometry,
  UnitImages,
  Summary,
];

const REGISTRY = new Map();
for (const m of MODULES) {
  if (REGISTRY.has(m.type)) throw new Error(`view type ${m.type} is registered twice`);
  REGISTRY.set(m.type, m);
}

export function viewModule(type) { return REGISTRY.get(type) || null; }

export function registerView(m) {
  if (REGISTRY.has(m.type)) throw new Error(`view type ${m.type} is registered twice`);
  REGISTRY.set(m.type, m);
}

export function registeredTypes() { return [...REGISTRY.keys()]; }
