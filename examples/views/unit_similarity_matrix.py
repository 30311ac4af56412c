"""A unit similarity matrix (here: the correlation of the average waveforms)."""
import _data
import numpy as np

import sortingview.views as vv

waves = {u: _data.average_waveform(u).ravel() for u in _data.UNIT_IDS}
scores = [vv.UnitSimilarityScore(unit_id1=u1, unit_id2=u2, similarity=float(np.corrcoef(waves[u1], waves[u2])[0, 1]))
          for u1 in _data.UNIT_IDS for u2 in _data.UNIT_IDS]
view = vv.UnitSimilarityMatrix(unit_ids=_data.UNIT_IDS, similarity_scores=scores)
print(view.url(label="Unit similarity matrix example"))
