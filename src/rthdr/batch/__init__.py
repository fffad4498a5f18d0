"""`rthdr batch`: reading thousands to millions of image files into one table of rows, on this
machine's cores (`local`) or a Ray cluster (`ray`). Torch-free, like the serving core it reads with.

In the order a job runs: `inputs` (the arguments -> paths), `job` (resume, progress, counting),
`local` and `ray_engine` (the engines), `reader` (one worker's ONNX sessions: paths -> rows) and
`rows` (the row and its CSV, JSON Lines and Parquet files). `benchmark` measures the engines.
"""
