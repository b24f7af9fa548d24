#!/usr/bin/env python3
"""Validates an SBOM (or a SARIF log) against the official JSON schema: validate_sbom.py SCHEMA FILE [IDS].

References between schema files (CycloneDX's spdx.schema.json and jsf-0.82.schema.json) are
resolved from the schema's own folder; nothing is fetched. The SPDX 2.3 schema leaves what the
specification requires of identifiers and licence expressions unchecked, so for SPDX documents
this also checks: SPDXIDs are unique and well formed, relationships name existing elements,
licenseDeclared/licenseConcluded are NOASSERTION, NONE or expressions of SPDX licence ids (from
IDS, the SPDX licence list as CycloneDX's spdx.schema.json enumerates it) and LicenseRef- ids
that hasExtractedLicensingInfos defines. Exit 0 when valid, 1 with every error listed otherwise,
2 on bad usage.
"""
import json
import os
import re
import sys

import warnings

import jsonschema

warnings.filterwarnings("ignore", category=DeprecationWarning)


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    schema_path, doc_path = sys.argv[1], sys.argv[2]
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    with open(doc_path, encoding="utf-8") as f:
        doc = json.load(f)
    folder = os.path.dirname(os.path.abspath(schema_path))
    store = {}
    for name in os.listdir(folder):
        if name.endswith(".json"):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                s = json.load(f)
            store["file://" + os.path.join(folder, name)] = s
            # The schema's own URI: "$id", or "id" in draft-04 schemas (SARIF 2.1.0's).
            for key in ("$id", "id"):
                if isinstance(s.get(key), str):
                    store[s[key]] = s
            # A relative $ref resolves against the main schema's $id: register each file under
            # that base too (a copy may carry its own $id, different from the name it is
            # referenced by, as @cyclonedx/cyclonedx-library's *.SNAPSHOT.schema.json do).
            base_id = schema.get("$id", "")
            if "/" in base_id:
                store[base_id.rsplit("/", 1)[0] + "/" + name] = s

    def offline(uri):
        raise jsonschema.exceptions.RefResolutionError(f"{uri}: not in the schema's folder (nothing is fetched)")

    resolver = jsonschema.RefResolver(base_uri="file://" + folder + "/", referrer=schema, store=store,
                                      handlers={"http": offline, "https": offline})
    cls = jsonschema.validators.validator_for(schema)
    validator = cls(schema, resolver=resolver, format_checker=cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errors:
        print(f"{doc_path}: {'/'.join(str(p) for p in e.absolute_path)}: {e.message}")
    problems = spdx_problems(doc, sys.argv[3] if len(sys.argv) == 4 else None)
    for p in problems:
        print(f"{doc_path}: {p}")
    return 1 if errors or problems else 0


ID = re.compile(r"^SPDXRef-[A-Za-z0-9.-]+$")
REF = re.compile(r"^LicenseRef-[A-Za-z0-9.-]+$")


def expression_ok(expr, ids, refs):
    tokens = re.findall(r"\(|\)|[^\s()]+", expr)
    depth, want_operand, after_with = 0, True, False
    for t in tokens:
        if t == "(":
            if not want_operand:
                return False
            depth += 1
        elif t == ")":
            depth -= 1
            if depth < 0 or want_operand:
                return False
        elif t in ("AND", "OR", "WITH"):
            if want_operand:
                return False
            want_operand, after_with = True, t == "WITH"
        else:
            if not want_operand:
                return False
            base = t[:-1] if t.endswith("+") else t
            if after_with:
                if not re.match(r"^[A-Za-z0-9.-]+$", t):
                    return False
            elif not (base in ids or (REF.match(t) and t in refs)):
                return False
            want_operand, after_with = False, False
    return depth == 0 and not want_operand


def spdx_problems(doc, ids_path):
    if doc.get("spdxVersion") != "SPDX-2.3":
        return []
    out = []
    ids = set()
    if ids_path:
        with open(ids_path, encoding="utf-8") as f:
            ids = set(json.load(f)["enum"])
    refs = {e.get("licenseId") for e in doc.get("hasExtractedLicensingInfos", [])}
    for r in refs:
        if not r or not REF.match(r):
            out.append(f"hasExtractedLicensingInfos: bad licenseId {r!r}")
    elements = {doc.get("SPDXID")}
    for p in doc.get("packages", []):
        sid = p.get("SPDXID", "")
        if not ID.match(sid):
            out.append(f"package {p.get('name')!r}: bad SPDXID {sid!r}")
        if sid in elements:
            out.append(f"duplicate SPDXID {sid!r}")
        elements.add(sid)
        for field in ("licenseDeclared", "licenseConcluded"):
            v = p.get(field, "NOASSERTION")
            if v not in ("NOASSERTION", "NONE") and ids and not expression_ok(v, ids, refs):
                out.append(f"package {sid}: {field} {v!r} is not a valid SPDX licence expression")
    for r in doc.get("relationships", []):
        for k in ("spdxElementId", "relatedSpdxElement"):
            if r.get(k) not in elements:
                out.append(f"relationship names unknown element {r.get(k)!r}")
    return out


if __name__ == "__main__":
    sys.exit(main())
