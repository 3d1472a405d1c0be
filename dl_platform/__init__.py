"""dl_platform: link health and care datasets into a Master Person Index and release safe extracts."""

__version__ = "0.1.0"
