"""The distribution's version: a leaf module, so that printing it loads nothing else."""

__version__ = "0.1.0"
