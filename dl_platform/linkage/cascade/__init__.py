"""The MPS-style cascade: deterministic, probabilistic to the master, bucket, one-time ID.

Each step reads the records the previous steps left and appends to `ASSIGN` (one row per
record it placed) and `DIAG` (what it tried and saw). Person references are either an
existing person_id or `new:<anchor unique_id>`, resolved to opaque IDs by `ids.py`.
"""

ASSIGN = "__dl_assign"
DIAG = "__dl_diag"
NEW = "__dl_new"
EXISTING = "__dl_existing"
# Splink-ready records earlier runs left in the bucket (built once a run; adopt and bucket read it).
KNOWN_BUCKET = "__dl_known_bucket"
KNOWN = "__dl_known_bucket_person"
NEW_REF = "new:"
