"""What the desktop and the server must agree on, written once (no Qt, no database driver).

* :mod:`havre_common.contract` — every synced table and field: types, limits, allowed values,
  French labels, who may write and read it, where it travels;
* :mod:`havre_common.validation` — the one validation of rows against the contract, used by
  the desktop before saving and by the server before applying a push;
* :mod:`havre_common.protocol` — the wire types of the sync API;
* :mod:`havre_common.hlc` — the hybrid logical clock;
* :mod:`havre_common.reference` — the reference data with fixed ids (territories, stakes…);
* :mod:`havre_common.values` — French formats (phones, dates) with French messages;
* :mod:`havre_common.messages` — messages both sides show for the same refusal.
"""

__version__ = "0.1.0"
