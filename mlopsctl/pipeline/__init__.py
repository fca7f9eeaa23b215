"""Everything DVC: reading DVC's facts without importing it, dvc.lock, running dvc, the pipeline
files (dvc.yaml, params) and the DVC repository set-up."""
