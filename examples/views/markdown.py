"""A Markdown text beside a units table (sortingview 0.14 view kept as data; see doc/views.md)."""
import sortingview.views as vv

text = vv.Markdown("# Session 3\n\nSorted with *MountainSort 5*; units 2 and 3 look like one neuron.")
print(text.url(label="Markdown example"))
