// Every registered view type, one line each: `export * as <Type> from "./<Type>.js";` (see registry.js).
export * as UnitsTable from "./UnitsTable.js";
export * as Autocorrelograms from "./Autocorrelograms.js";
export * as CrossCorrelograms from "./CrossCorrelograms.js";
export * as AverageWaveforms from "./AverageWaveforms.js";
export * as SpikeAmplitudes from "./SpikeAmplitudes.js";
export * as SortingCuration from "./SortingCuration.js";
export * as SortingCuration2 from "./SortingCuration2.js";
export * as SortingSelection from "./SortingSelection.js";
export * as RasterPlot from "./RasterPlot.js";
export * as UnitLocations from "./UnitLocations.js";
export * as SpikeLocations from "./SpikeLocations.js";
export * as UnitSimilarityMatrix from "./UnitSimilarityMatrix.js";
export * as ConfusionMatrix from "./ConfusionMatrix.js";
export * as UnitMetricsGraph from "./UnitMetricsGraph.js";
export * as ElectrodeGeometry from "./ElectrodeGeometry.js";
export * as UnitImages from "./UnitImages.js";
export * as Summary from "./Summary.js";
