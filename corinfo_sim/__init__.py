"""corinfo_sim: Brian2 simulator of CorInfoMax networks."""
__version__ = "0.1.0"
