"""bn-compare: does BatchNormalization help this network, and where should it go?"""

__version__ = "0.1.0"
