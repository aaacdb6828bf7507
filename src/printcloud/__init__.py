"""PrintCloud: print from a web application to the printers in your customers' offices."""

__version__ = "0.1.0"
