"""Parameters and scores tracked on every run, without anyone remembering to.

`patterns` (which names are metrics, the notebook's tracking settings; pure), `params` (the
`parameters` cell read with `ast`, and the names a cell's code binds; pure), `capture` (the
`user_expressions` entry that reads metrics and parameter values in the kernel, and its reply;
pure), `tracker` (one session's tracking around each run), `experiments` (tracked runs from the
run history: JSON and CSV; pure), `mlflow` (tracked runs also logged to MLflow, optional).
"""
