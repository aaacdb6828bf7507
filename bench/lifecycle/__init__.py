"""Full job lifecycles, closed loop: ``python -m bench.lifecycle`` (see ``__main__``)."""
