"""The confusion matrix of a sorting against ground truth (event counts and matched events)."""
import sortingview.views as vv

truth, found = [1, 2, 3], ["a", "b", "c", "d"]
counts = {1: 500, 2: 320, 3: 210, "a": 480, "b": 300, "c": 150, "d": 90}
matches = [(1, "a", 470), (2, "b", 290), (3, "c", 140), (3, "d", 40)]
view = vv.ConfusionMatrix(
    sorting1_unit_ids=truth, sorting2_unit_ids=found,
    unit_event_counts=[vv.UnitEventCount(unit_id=u, count=n) for u, n in counts.items()],
    matching_unit_event_counts=[vv.MatchingUnitEventCount(unit_id1=a, unit_id2=b, count=n) for a, b, n in matches])
print(view.url(label="Confusion matrix example"))
