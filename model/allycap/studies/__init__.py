"""Studies over many solves: compare runs, sweep a parameter, stress a portfolio, plan robustly.

One module per job, each importing pandas, Pyomo and Dask only inside its functions so that
`allycap --help` stays fast:

- `cases.py`   scenario specs (`path[:weight]`), the pipeline up to a built model, measures
- `batch.py`   run independent tasks serially, in local processes or on a Dask cluster
- `sweep.py`   `allycap sweep`: re-solves on one persistent HiGHS model (or re-runs)
- `stress.py`  `allycap stress`: a fixed portfolio's operations under disruption scenarios
- `robust.py`  `allycap solve --robust`: one investment plan for several scenarios at once
- `compare.py` `allycap compare`: KPIs of runs side by side and investments facility by facility
- `output.py`  study folders written atomically, with a manifest
"""
