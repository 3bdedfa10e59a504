#!/usr/bin/python3
"""Generate data/cf/standard-names.json from the CF Standard Name Table XML.

Usage: /usr/bin/python3 scripts/data/gen_cf_table.py cf-standard-name-table.xml

Output: {"version", "last_modified", "institution", "entries": {name: canonical_units},
"aliases": {alias: standard_name}}. Descriptions are dropped (the table is 4 MB with them).
The XML is the table as published by the CF conventions community (cfconventions.org).
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
entries = {e.get("id"): (e.findtext("canonical_units") or "").strip() for e in root.iter("entry")}
aliases = {a.get("id"): a.findtext("entry_id").strip() for a in root.iter("alias")}
out = {
    "version": int(root.findtext("version_number")),
    "last_modified": root.findtext("last_modified"),
    "institution": root.findtext("institution"),
    "entries": dict(sorted(entries.items())),
    "aliases": dict(sorted(aliases.items())),
}
path = os.path.join(os.path.dirname(__file__), "..", "..", "data", "cf", "standard-names.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
print(f"CF standard name table v{out['version']}: {len(entries)} entries, {len(aliases)} aliases -> {os.path.normpath(path)}")
