"""hubsync: a polling sync daemon connecting HubSpot Service Hub to the Simpli AI services."""
__version__ = "0.1.0"
