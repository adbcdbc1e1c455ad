"""bn-compare: does BatchNormalization help this network, and where should it go?"""

import os

# TensorFlow is imported lazily inside the nodes; when it is, keep its C++ start-up
# chatter (oneDNN notices, missing CUDA) out of the run log. Users can override these.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
# TensorFlow's oneDNN kernels: off. For this network (batch 32, 784-300-100-10) Eigen
# is as fast, and oneDNN costs memory in every process (README, Speed). Must be set
# before TensorFlow is imported; export TF_ENABLE_ONEDNN_OPTS=1 to compare.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
# Kedro's ParallelRunner: spawn workers, never fork a process holding TensorFlow.
os.environ.setdefault("KEDRO_MP_CONTEXT", "spawn")

__version__ = "0.1.0"
