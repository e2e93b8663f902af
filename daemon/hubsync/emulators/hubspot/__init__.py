"""An in-memory HubSpot emulator served over real HTTP, as strict as HubSpot or stricter.

``HubSpotEmulator`` is the entry point; ``RecordedRequest`` is one entry of its request record.
"""

from __future__ import annotations

from hubsync.emulators.hubspot.emulator import HubSpotEmulator
from hubsync.emulators.hubspot.recording import RecordedRequest

__all__ = ["HubSpotEmulator", "RecordedRequest"]
