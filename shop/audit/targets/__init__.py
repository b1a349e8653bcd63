"""The provincial programme's targets and the metrics that measure them."""
