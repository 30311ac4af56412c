from setuptools import find_packages, setup

with open("sortingview/_version.py") as f:
    version = f.read().split('"')[1]

test_requires = [
    "pytest>=7", "ruff", "psutil", "playwright>=1.40", "kachery-cloud>=0.4", "huey>=2.5", "phylib>=2.4",

]
dask_requires = ["dask[distributed]>=2023.1"]
redis_requires = ["redis[hiredis]>=4.5"]
nwb_requires = ["pynwb>=2.5"]
bench_requires = ["matplotlib>=3.7", "scikit-learn>=1.2"]
sorters_requires = ["mountainsort5>=0.5", "hdbscan>=0.8.33", "pandas>=1.5"]  # CPU-only sorters (doc/sorting.md)

setup(
    name="sortingview",
    version=version,
    description="View, curate and share electrophysiological spike sorting results, on your own machines",
    long_description=open("README.md").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["sortingview", "sortingview.*"]),
    package_data={"sortingview": ["viewer/*", "viewer/**/*"]},
    include_package_data=True,
    install_requires=[
        "numpy>=1.24",
        "scipy>=1.9",  # spikeinterface.comparison (the demo, sortingview.compare_sortings.1)
        "pandas>=1.5",  # spikeinterface.comparison
        "scikit-learn>=1.2",  # spikeinterface's simple sorter (sortingview.run_sorter.1 without extras)
        "pyyaml>=6",
        "click>=8.1",
        "spikeinterface>=0.101",
        "flask>=3.0",
        "waitress>=3.0",
        "tqdm>=4.60",
        "numba>=0.58",
        "threadpoolctl>=3.0",
    ],
    extras_require={
        "test": test_requires,
        "dask": dask_requires,
        "redis": redis_requires,
        "nwb": nwb_requires,
        "bench": bench_requires,
        "sorters": sorters_requires,
        "all": test_requires + dask_requires + redis_requires + nwb_requires + bench_requires + sorters_requires,
    },
    entry_points={
        "console_scripts": [
            "sortingview=sortingview.cli:main",
            "sortingview-start-backend=sortingview.cli.backend_cmds:start_backend",
        ]
    },
)
