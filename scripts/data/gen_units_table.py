#!/usr/bin/python3
"""Generate data/units/udunits2.json from the UDUNITS-2 XML unit database.

Usage: /usr/bin/python3 scripts/data/gen_units_table.py [/usr/share/xml/udunits]

CF 1.11 §3.1 defers the syntax and meaning of `units` to UDUNITS-2, so src/cf/units.ts needs
UDUNITS' own vocabulary; this script copies it from Debian's libudunits2-data. Definitions are
kept as UDUNITS expressions ("N/m^2", "K @ 273.15") and evaluated by src/cf/units.ts with the
same parser it applies to attribute values, so there is one grammar to get right, not two.

Output: {"source", "version", "prefixes": {"names": {name: value}, "symbols": {symbol: value}},
"units": [{"base": i} | {"def": expression}, "names": [...], "symbols": [...]]}. "base" is the
index of an SI base dimension (m kg s A K mol cd), or 7 for the radian, which UDUNITS declares
<dimensionless/>. Names include their plural forms, formed the way UDUNITS does (xml.c,
ut_form_plural). <noplural/> is ignored on purpose: udunits2 2.2.28 maps "percents", "pis" and
"amus" all the same (checked with the udunits2 program), and the table must match the program.
"""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

BASE = {"meter": 0, "kilogram": 1, "second": 2, "ampere": 3, "kelvin": 4, "mole": 5, "candela": 6}
RADIAN = 7


def plural(s):
    """UDUNITS' ut_form_plural (lib/xml.c): English rules applied to the last letters only."""
    if len(s) == 1:
        return s + "s"
    if s.endswith("y"):
        return s + "s" if s[-2] in "aeiou" else s[:-1] + "ies"
    if s[-1] in "sxz" or s.endswith("ch") or s.endswith("sh"):
        return s + "es"
    return s + "s"


def text(e):
    return (e.text or "").strip()


def names_of(parent):
    out = []
    for n in parent.findall("name"):
        singular = text(n.find("singular"))
        out.append(singular)
        p = n.find("plural")
        out.append(text(p) if p is not None else plural(singular))
    return out


def read(path, prefixes, units):
    root = ET.parse(path).getroot()
    for child in root:
        if child.tag == "import":
            read(os.path.join(os.path.dirname(path), text(child)), prefixes, units)
        elif child.tag == "prefix":
            value = float(text(child.find("value")))
            for n in child.findall("name"):
                prefixes["names"][text(n)] = value
            for s in child.findall("symbol"):
                prefixes["symbols"][text(s)] = value
        elif child.tag == "unit":
            names = names_of(child)
            symbols = [text(s) for s in child.findall("symbol")]
            for a in child.findall("aliases"):
                names += names_of(a)
                symbols += [text(s) for s in a.findall("symbol")]
            if child.find("base") is not None:
                entry = {"base": BASE[names[0]]}
            elif child.find("dimensionless") is not None:
                entry = {"base": RADIAN}
            else:
                entry = {"def": " ".join(text(child.find("def")).split())}
            entry["names"] = list(dict.fromkeys(names))
            entry["symbols"] = symbols
            units.append(entry)


def version():
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libudunits2-data"],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


src = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/xml/udunits"
prefixes = {"names": {}, "symbols": {}}
units = []
read(os.path.join(src, "udunits2.xml"), prefixes, units)
out = {
    "source": "UDUNITS-2 XML database (udunits2.xml and its imports), Debian libudunits2-data",
    "version": version(),
    "prefixes": prefixes,
    "units": units,
}
path = os.path.join(os.path.dirname(__file__), "..", "..", "data", "units", "udunits2.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
    f.write("\n")
ids = sum(len(u["names"]) + len(u["symbols"]) for u in units)
print(f"UDUNITS-2 {out['version']}: {len(units)} units, {ids} names and symbols, "
      f"{len(prefixes['names'])} prefixes -> {os.path.normpath(path)}")
