from .pipeline import create_pipeline  # noqa: F401 (the package is the pipeline)
