#!/usr/bin/env python3
"""Validate sitegate messages captured with `mosquitto_sub -v`.

Reads lines of the form `TOPIC PAYLOAD` from the given files (or stdin). Data messages (topic ending in `/data`)
of contract v2 are checked against docs/senml-pack.schema.json plus the rules of docs/payload.md that a schema
cannot express:

  * bver is 26 if and only if a record uses an RFC 8798 secondary unit (an explicit bver 10 is tolerated);
  * bn equals urn:dev:gia:{site}:{gateway}:{device}: of the topic;
  * poll matches the records (full: no failed record; partial: some values and some failed records; failed: one
    `_poll` record); `clock` is on every record of a message or on none;
  * sig, when present, is the last member of the last record by the byte rule (docs/evidence.md), and kid is
    present exactly when sig is;
  * bt and t have at most millisecond resolution; point ids are unique within a message; the payload has no
    whitespace and is strict JSON (no NaN, no duplicate keys);
  * seq is a JSON integer, and the same seq (gateway-wide, data and evidence) always comes with the same bytes.

Evidence messages (`/evidence`) are checked against docs/evidence-messages.schema.json, the byte rule, and each
kind's arithmetic (a checkpoint's due = full + partial + failed + missed; a gap's count). Data messages of
contract v1 (agents before issue 14: no `poll`, no `prev`) are checked against docs/senml-pack-v1.schema.json
and the v1 rules (backfill on all records or none, seq order per stream); --require-v2 refuses them. status,
meta and health are checked against docs/gateway-messages.schema.json. Seq gaps are reported as notes, not
failures: the chain (scripts/verify_evidence.py) is what tells a declared gap from a loss.

    mosquitto_sub -v -t 'gia/v1/+/+/+/data' -C 100 > capture.txt
    scripts/validate_senml.py capture.txt

Exit status: 0 when every message passed, 1 when any failed (or no message was found), 2 on usage errors
(missing jsonschema package, unreadable schema or input).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, TextIO

try:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError
except ImportError:  # pragma: no cover - depends on the environment
    sys.stderr.write("validate_senml.py needs the jsonschema package: pip install jsonschema\n")
    sys.exit(2)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SCHEMA = REPO / "docs" / "senml-pack.schema.json"
V1_SCHEMA = REPO / "docs" / "senml-pack-v1.schema.json"
OTHER_SCHEMA = REPO / "docs" / "gateway-messages.schema.json"
EVIDENCE_SCHEMA = REPO / "docs" / "evidence-messages.schema.json"


def _other_validators():
    root = json.loads(OTHER_SCHEMA.read_text())
    out = {}
    for kind in ("status", "meta", "health"):
        schema = dict(root)
        schema["$ref"] = f"#/$defs/{kind}"
        out[kind] = Draft202012Validator(schema)
    return out


OTHER_VALIDATORS = _other_validators()
V1_VALIDATOR = Draft202012Validator(json.loads(V1_SCHEMA.read_text()))
EVIDENCE_VALIDATOR = Draft202012Validator(json.loads(EVIDENCE_SCHEMA.read_text()))
SIG_MARK = ',"sig":"'
SIG_CHARS = 86

# RFC 8798 secondary units among those the schema allows; using any of them requires bver 26 (RFC 9100).
SECONDARY_UNITS = {
    "ms", "min", "h", "MHz", "kW", "kVA", "kvar", "Ah", "Wh", "kWh", "varh", "kvarh", "kVAh", "Wh/km", "KiB", "GB",
    "Mbit/s", "B/s", "MB/s", "mV", "mA", "dBm", "ug/m3", "mm/h", "m/h", "ppm", "/100", "/1000", "hPa", "mm", "cm",
    "km", "km/h",
}
BVER_SECONDARY = 26
BASE_FIELDS = ("bn", "bt", "bver", "seq", "prev", "kid", "poll")

SITE_RE = re.compile(r"^[a-z0-9-]+$")
DEVICE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
WHITESPACE_RE = re.compile(r"\s")
MAX_REASONS = 6


class PayloadError(Exception):
    """The payload is not acceptable JSON."""


def _reject_constant(name: str) -> Any:
    raise PayloadError(f"{name} is not valid JSON (an invalid reading must be sent as vs)")


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise PayloadError(f"duplicate key {key!r} in a record")
        obj[key] = value
    return obj


def parse_payload(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as e:
        raise PayloadError(f"not JSON: {e.msg} at column {e.colno}") from None


def json_path(path: Iterable[Any]) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def error_order(error: ValidationError) -> list[tuple[int, Any]]:
    """Sort key: by record index (numerically), then field, then keyword."""
    path = [(0, p) if isinstance(p, int) else (1, str(p)) for p in error.absolute_path]
    return path + [(2, str(error.validator))]


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {dict: "object", list: "array", str: "string", type(None): "null"}.get(type(value), type(value).__name__)


def describe(error: ValidationError) -> str:
    """One readable reason for a schema error."""
    where = json_path(error.absolute_path)
    inst = error.instance
    kind = error.validator
    in_then = "then" in error.schema_path
    in_else = "else" in error.schema_path
    record_index = error.absolute_path[0] if error.absolute_path else None

    if kind == "oneOf" and isinstance(inst, dict):
        if in_then:
            return (f"{where}: vs must be raw registers (hex) with q 'invalid', or a failure reason with q 'failed' "
                    f"(got vs {inst.get('vs')!r}, q {inst.get('q')!r})")
        if "v" in inst and "vs" in inst:
            return f"{where}: record has both v and vs (exactly one is allowed)"
        return f"{where}: record has neither v nor vs"
    if in_then and kind == "not" and isinstance(inst, dict):
        return f"{where}: the _poll record carries no u, t or v (only vs and q)"
    if in_then and kind in ("required", "pattern"):
        if isinstance(inst, dict) and inst.get("n") == "_poll":
            return f"{where}: the _poll record needs vs (the reason) and q 'failed'"
        return f"{json_path(list(error.absolute_path)[:2])}: vs is only sent with q containing 'invalid' or 'failed'"
    if in_else and kind == "not":
        return (f"{where}: q contains 'invalid' or 'failed' but the record has v (an invalid reading or a failure "
                "is sent as vs, never as v)")
    if kind == "additionalProperties" and isinstance(inst, dict):
        allowed = set(error.schema.get("properties", {})) if isinstance(error.schema, dict) else set()
        extra = sorted(set(inst) - allowed)
        base = [k for k in extra if k in BASE_FIELDS]
        if base and isinstance(record_index, int) and record_index > 0:
            return f"{where}: base field(s) {', '.join(base)} only allowed in the first record"
        return f"{where}: unknown field(s) {', '.join(extra)}"
    if kind == "enum":
        name = error.absolute_path[-1] if error.absolute_path else "value"
        if name == "u":
            return f"{where}: unit {inst!r} is not in the allowed unit list"
        return f"{where}: {inst!r} is not one of {error.validator_value}"
    if kind == "pattern":
        return f"{where}: {inst!r} does not match {error.validator_value}"
    if kind == "required":
        return f"{where}: {error.message}"
    if kind == "type":
        return f"{where}: must be of type {error.validator_value}, got {json_type(inst)}"
    if kind in ("minimum", "exclusiveMinimum", "maximum") and error.absolute_path:
        return f"{where}: {inst!r} violates {kind} {error.validator_value}"
    return f"{where}: {error.message}"


def labels(record: dict[str, Any]) -> list[str]:
    return record["q"].split(",") if "q" in record else []


def byte_rule_errors(payload: str, last: dict[str, Any], head: dict[str, Any], closing: str) -> list[str]:
    """sig is the last member of the last object, followed only by the closing (docs/evidence.md, The byte rule);
    kid comes with sig."""
    errors = []
    if "sig" in last:
        mark = payload.rfind(SIG_MARK)
        if mark < 0 or payload[mark + len(SIG_MARK):] != last["sig"] + '"' + closing:
            errors.append(f"sig is not the last member of the last object followed by {closing!r} (the byte rule)")
    if ("sig" in last) != ("kid" in head):
        errors.append("kid and sig come together (a signed message has both, an unsigned one neither)")
    return errors


def pack_errors(doc: list[dict[str, Any]], site: str, gateway: str, device: str) -> list[str]:
    """The rules both contracts share for a data pack: bn, bver and secondary units, time resolution, one record
    per point."""
    errors: list[str] = []
    first = doc[0]

    expected_bn = f"urn:dev:gia:{site}:{gateway}:{device}:"
    if first["bn"] != expected_bn:
        errors.append(f"bn {first['bn']!r} does not match the topic (expected {expected_bn!r})")

    secondary = sorted({r["u"] for r in doc if r.get("u") in SECONDARY_UNITS})
    bver = first.get("bver")
    if secondary and bver != BVER_SECONDARY:
        have = "missing" if bver is None else str(bver)
        errors.append(f"secondary unit(s) {', '.join(secondary)} used but bver is {have} (must be 26)")
    if not secondary and bver == BVER_SECONDARY:
        errors.append("bver 26 but no secondary unit is used (bver must be omitted)")

    if round(first["bt"], 3) != first["bt"]:
        errors.append(f"bt {first['bt']!r} has more than millisecond resolution")
    for i, rec in enumerate(doc):
        if "t" in rec and round(rec["t"], 3) != rec["t"]:
            errors.append(f"$[{i}].t {rec['t']!r} has more than millisecond resolution")

    seen: dict[str, int] = {}
    for i, rec in enumerate(doc):
        if rec["n"] in seen:
            errors.append(f"$[{i}].n {rec['n']!r} repeats $[{seen[rec['n']]}] (one record per point)")
        else:
            seen[rec["n"]] = i
    return errors


def semantic_errors_v2(doc: list[dict[str, Any]], payload: str, site: str, gateway: str, device: str) -> list[str]:
    """Rules of docs/payload.md (contract v2) that the schema cannot express (doc already passed the schema)."""
    errors = pack_errors(doc, site, gateway, device)
    first = doc[0]

    failed = [i for i, rec in enumerate(doc) if "failed" in labels(rec)]
    poll_record = [i for i, rec in enumerate(doc) if rec["n"] == "_poll"]
    outcome = first["poll"]
    if outcome == "full" and failed:
        errors.append(f"poll is full but {len(failed)} record(s) have q 'failed' (that is a partial poll)")
    if outcome == "partial" and (not failed or len(failed) == len(doc) or poll_record):
        errors.append("poll is partial: some records need a value and some q 'failed' (none _poll)")
    if outcome == "failed" and (len(doc) != 1 or not poll_record):
        errors.append("poll is failed: the message has exactly one record, _poll, with the reason")
    if poll_record and outcome != "failed":
        errors.append("a _poll record only in a failed poll")
    for i in failed:
        reason = doc[i]["vs"]
        if doc[i]["n"] == "_poll" and reason == "skipped":
            errors.append(f"$[{i}]: a whole poll is not 'skipped' (that reason is for points)")
        if doc[i]["n"] != "_poll" and reason == "backoff":
            errors.append(f"$[{i}]: 'backoff' is for a whole poll (_poll), not a point")

    clock = [("clock" in labels(rec)) for rec in doc]
    if any(clock) and not all(clock):
        missing = ", ".join(f"$[{i}]" for i, c in enumerate(clock) if not c)
        errors.append(f"clock must be on every record of a message or on none (missing on {missing})")
    for i, rec in enumerate(doc):
        if len(set(labels(rec))) != len(labels(rec)):
            errors.append(f"$[{i}].q repeats a label")
        if "sig" in rec and i != len(doc) - 1:
            errors.append(f"$[{i}]: sig only in the last record")

    errors += byte_rule_errors(payload, doc[-1], first, "}]")
    return errors


def evidence_errors(doc: dict[str, Any], payload: str) -> list[str]:
    """Rules of docs/evidence.md that the evidence schema cannot express."""
    errors: list[str] = []
    if next(iter(doc)) != "kind":
        errors.append("kind must be the first member")
    for name in ("time", "from_time", "to_time"):
        if name in doc and round(doc[name], 3) != doc[name]:
            errors.append(f"{name} {doc[name]!r} has more than millisecond resolution")
    kind = doc["kind"]
    if kind == "gap":
        if not doc["from_seq"] <= doc["to_seq"] < doc["seq"]:
            errors.append("a gap needs from_seq <= to_seq < its own seq")
        if doc["count"] != doc["to_seq"] - doc["from_seq"] + 1:
            errors.append("a gap's count must be to_seq - from_seq + 1")
        if doc["from_time"] > doc["to_time"]:
            errors.append("a gap's from_time is after its to_time")
    elif kind == "checkpoint":
        if doc["slot"]["start"] >= doc["slot"]["end"]:
            errors.append("slot start must be before its end")
        for device, d in doc["devices"].items():
            accounted = d["full"] + d["partial"] + d["failed"] + sum(d["missed"].values())
            if d["due"] != accounted:
                errors.append(f"devices.{device}: due {d['due']} != full + partial + failed + missed ({accounted})")
            if ("first_seq" in d) != ("last_seq" in d) or ("first_seq" in d and d["first_seq"] > d["last_seq"]):
                errors.append(f"devices.{device}: first_seq and last_seq come together, first <= last")
            if ("first_seq" in d) != (d["full"] + d["partial"] + d["failed"] > 0):
                errors.append(f"devices.{device}: first_seq/last_seq present exactly when the slot has polls")
    elif kind == "key-handover":
        if doc["endorsed"] and "kid" in doc and doc["previous_kid"] not in (None, doc["kid"]):
            errors.append("an endorsed key-handover is signed by the previous key (kid = previous_kid)")
        if doc["next_kid"] == doc.get("previous_kid"):
            errors.append("next_kid equals previous_kid")
    errors += byte_rule_errors(payload, doc, doc, "}")
    return errors


def semantic_errors(doc: list[dict[str, Any]], site: str, gateway: str, device: str) -> list[str]:
    """Rules of docs/payload.md (contract v1) that the v1 schema cannot express."""
    errors = pack_errors(doc, site, gateway, device)
    first = doc[0]
    seq = first["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int):
        errors.append(f"seq must be written as a JSON integer (got {seq!r})")

    flagged = [("backfill" in rec.get("q", "").split(",")) for rec in doc]
    if any(flagged) and not all(flagged):
        missing = ", ".join(f"$[{i}]" for i, f in enumerate(flagged) if not f)
        errors.append(f"backfill must be on every record of a message or on none (missing on {missing})")
    return errors


def canonical(doc: list[dict[str, Any]]) -> str:
    """Content used to recognise a repeat: the message without the `backfill` label, which a repeat may gain."""
    out = []
    for rec in doc:
        rec = dict(rec)
        if "q" in rec:
            labels = [label for label in rec["q"].split(",") if label != "backfill"]
            if labels:
                rec["q"] = ",".join(sorted(labels))
            else:
                del rec["q"]
        out.append(rec)
    return json.dumps(out, sort_keys=True, separators=(",", ":"))


@dataclass
class GatewayStream:
    last_seq: int | None = None
    last_line: int = 0
    seen: dict[int, tuple[str, int]] = field(default_factory=dict)  # seq -> (canonical content, line)


@dataclass
class Totals:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    repeats: int = 0
    gaps: int = 0


def schema_reasons(validator: Draft202012Validator, doc: Any) -> list[str]:
    schema_errors = sorted(validator.iter_errors(doc), key=error_order)
    # A record with both v and vs also trips the vs-needs-invalid rule; report only the first problem.
    records = doc if isinstance(doc, list) else []
    both = {i for i, r in enumerate(records) if isinstance(r, dict) and "v" in r and "vs" in r}
    schema_errors = [
        e for e in schema_errors if not ("then" in e.schema_path and e.absolute_path and e.absolute_path[0] in both)
    ]
    return list(dict.fromkeys(describe(e) for e in schema_errors))


def check_stream(
    name: str, stream: TextIO, validator: Draft202012Validator, prefix: str | None, totals: Totals, out: TextIO,
    require_v2: bool = False,
) -> None:
    gateways: dict[tuple[str, str, str, bool], GatewayStream] = {}
    seen_by_gateway: dict[tuple[str, str, str], dict[int, tuple[str, int]]] = {}
    # Contract v2 and evidence: per gateway, seq -> (exact payload, line); a redelivery is byte-identical.
    chained: dict[tuple[str, str, str], dict[int, tuple[str, int]]] = {}

    def record_chained(gw: tuple[str, str, str], seq: int, payload: str, lineno: int, topic: str) -> None:
        seen = chained.setdefault(gw, {})
        if seq in seen:
            first_payload, first_line = seen[seq]
            if payload != first_payload:
                fail(lineno, topic, [f"seq {seq} reused with different bytes (first seen on line {first_line}): "
                                     "equivocation, or a buffer database created with a clock that was behind"])
                return
            totals.repeats += 1
            totals.passed += 1
            note(lineno, topic, f"repeat of seq {seq} (line {first_line}), allowed under at-least-once delivery")
            return
        seen[seq] = (payload, lineno)
        totals.passed += 1

    def fail(lineno: int, topic: str, reasons: list[str]) -> None:
        totals.failed += 1
        shown = reasons[:MAX_REASONS]
        more = f"; (and {len(reasons) - MAX_REASONS} more)" if len(reasons) > MAX_REASONS else ""
        out.write(f"{name}:{lineno}: {topic}: FAIL: {'; '.join(shown)}{more}\n")

    def note(lineno: int, topic: str, text: str) -> None:
        out.write(f"{name}:{lineno}: {topic}: note: {text}\n")

    for lineno, raw in enumerate(stream.buffer if hasattr(stream, "buffer") else stream, start=1):
        if isinstance(raw, bytes):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                totals.failed += 1
                out.write(f"{name}:{lineno}: FAIL: line is not UTF-8 ({e.reason} at byte {e.start})\n")
                continue
        else:
            line = raw
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        topic, sep, payload = line.partition(" ")
        kind = topic.rsplit("/", 1)[-1]
        if kind in ("status", "meta", "health"):
            # The gateway's other messages, against docs/gateway-messages.schema.json. An empty retained meta
            # clears a removed device's meta.
            if kind == "meta" and not payload:
                totals.passed += 1
                continue
            try:
                other = json.loads(payload)
            except ValueError as e:
                fail(lineno, topic, [f"not JSON: {e}"])
                continue
            problems = [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
                        for e in OTHER_VALIDATORS[kind].iter_errors(other)]
            if kind == "health" and not problems:
                # An overloaded bus carries the advice, and only an overloaded one (docs/payload.md).
                for bus, figures in (other.get("buses") or {}).items():
                    if figures.get("overloaded") != ("advice" in figures):
                        problems.append(f"buses/{bus}: 'advice' must be present exactly when 'overloaded' is true")
            if problems:
                fail(lineno, topic, problems)
            else:
                totals.passed += 1
            continue
        if kind == "evidence":
            parts = topic.split("/")
            if len(parts) < 4 or (prefix is not None and "/".join(parts[:-3]) != prefix):
                fail(lineno, topic, ["topic is not {topic_prefix}/{site}/{gateway}/evidence"])
                continue
            if WHITESPACE_RE.search(payload):
                fail(lineno, topic, ["payload contains whitespace (the agent sends compact JSON)"])
                continue
            try:
                doc = parse_payload(payload)
            except PayloadError as e:
                fail(lineno, topic, [str(e)])
                continue
            reasons = schema_reasons(EVIDENCE_VALIDATOR, doc) or evidence_errors(doc, payload)
            if reasons:
                fail(lineno, topic, reasons)
                continue
            record_chained(("/".join(parts[:-3]), parts[-3], parts[-2]), doc["seq"], payload, lineno, topic)
            continue
        if not topic.endswith("/data"):
            totals.skipped += 1
            continue
        if not sep or not payload:
            fail(lineno, topic, ["empty payload"])
            continue

        parts = topic.split("/")
        if len(parts) < 5:
            fail(lineno, topic, ["topic is not {topic_prefix}/{site}/{gateway}/{device}/data"])
            continue
        topic_prefix, (site, gateway, device) = "/".join(parts[:-4]), parts[-4:-1]
        topic_errors = []
        if prefix is not None and topic_prefix != prefix:
            topic_errors.append(f"topic prefix {topic_prefix!r} is not {prefix!r}")
        if not SITE_RE.match(site):
            topic_errors.append(f"site id {site!r} does not match [a-z0-9-]+")
        if not SITE_RE.match(gateway):
            topic_errors.append(f"gateway id {gateway!r} does not match [a-z0-9-]+")
        if not DEVICE_RE.match(device):
            topic_errors.append(f"device id {device!r} does not match [a-z0-9][a-z0-9_-]*")
        if topic_errors:
            fail(lineno, topic, topic_errors)
            continue

        if WHITESPACE_RE.search(payload):
            fail(lineno, topic, ["payload contains whitespace (the agent sends compact JSON)"])
            continue
        try:
            doc = parse_payload(payload)
        except PayloadError as e:
            fail(lineno, topic, [str(e)])
            continue

        # Contract v2 messages carry poll and prev; anything else is read as v1 (agents before issue 14).
        v2 = isinstance(doc, list) and bool(doc) and isinstance(doc[0], dict) and ("poll" in doc[0] or "prev" in doc[0])
        if not v2 and require_v2:
            fail(lineno, topic, ["a contract v1 message (no poll, no prev) where v2 is required"])
            continue
        reasons = schema_reasons(validator if v2 else V1_VALIDATOR, doc)
        if not reasons:
            reasons = (semantic_errors_v2(doc, payload, site, gateway, device) if v2
                       else semantic_errors(doc, site, gateway, device))
        if reasons:
            fail(lineno, topic, reasons)
            continue
        if v2:
            record_chained((topic_prefix, site, gateway), doc[0]["seq"], payload, lineno, topic)
            continue

        # Order per gateway and stream: live polls and the backlog (backfill) each come in strictly increasing
        # seq order, and live polls may overtake the backlog; repeats of an earlier message are allowed.
        seq = doc[0]["seq"]
        backfill = "backfill" in str(doc[0].get("q", ""))
        seen = seen_by_gateway.setdefault((topic_prefix, site, gateway), {})
        gw = gateways.setdefault((topic_prefix, site, gateway, backfill), GatewayStream(seen=seen))
        content = canonical(doc)
        if seq in gw.seen:
            first_content, first_line = gw.seen[seq]
            if content != first_content:
                fail(
                    lineno,
                    topic,
                    [
                        f"seq {seq} reused with different content (first seen on line {first_line}); "
                        "legitimate only if the gateway's buffer database was replaced"
                    ],
                )
                seen[seq] = (content, lineno)
                continue
            totals.repeats += 1
            totals.passed += 1
            note(lineno, topic, f"repeat of seq {seq} (line {first_line}), allowed under at-least-once delivery")
            continue
        if gw.last_seq is not None and seq < gw.last_seq:
            fail(
                lineno,
                topic,
                [
                    f"seq went backwards: {seq} after {gw.last_seq} (line {gw.last_line}); "
                    "legitimate only if the gateway's buffer database was replaced"
                ],
            )
            # Judge what follows against the new numbering, so that one reset is reported once.
            seen[seq] = (content, lineno)
            gw.last_seq, gw.last_line = seq, lineno
            continue
        if gw.last_seq is not None and seq > gw.last_seq + 1:
            totals.gaps += 1
            missing = seq - gw.last_seq - 1
            note(lineno, topic, f"seq gap {gw.last_seq} -> {seq} ({missing} missing since line {gw.last_line})")
        gw.seen[seq] = (content, lineno)
        gw.last_seq, gw.last_line = seq, lineno
        totals.passed += 1

    # v2: live messages overtake the backlog after a reconnect, so order is no rule; holes are notes.
    for gw_key, seen in chained.items():
        seqs = sorted(seen)
        for low, high in zip(seqs, seqs[1:]):
            if high > low + 1:
                totals.gaps += 1
                note(seen[high][1], "/".join(gw_key), f"seq gap {low} -> {high} ({high - low - 1} missing)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Validate `mosquitto_sub -v` output against the sitegate message contract (docs/payload.md).",
        epilog="Example: mosquitto_sub -v -t 'gia/v1/+/+/+/data' -C 50 | scripts/validate_senml.py",
    )
    parser.add_argument("files", nargs="*", help="capture files with TOPIC PAYLOAD lines; none or '-' = stdin")
    parser.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA, help=f"default: {DEFAULT_SCHEMA}")
    parser.add_argument("--prefix", help="require this topic prefix (e.g. gia/v1); default: any")
    parser.add_argument("--require-v2", action="store_true", help="refuse data messages of contract v1")
    args = parser.parse_args(argv)

    try:
        schema = json.loads(args.schema.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
    except (OSError, ValueError) as e:
        sys.stderr.write(f"validate_senml.py: cannot load schema {args.schema}: {e}\n")
        return 2
    except Exception as e:  # jsonschema.SchemaError
        sys.stderr.write(f"validate_senml.py: invalid schema {args.schema}: {e}\n")
        return 2
    validator = Draft202012Validator(schema)

    totals = Totals()
    out = sys.stdout
    for name in args.files or ["-"]:
        if name == "-":
            check_stream("<stdin>", sys.stdin, validator, args.prefix, totals, out, args.require_v2)
            continue
        try:
            with open(name, "rb") as f:
                check_stream(name, f, validator, args.prefix, totals, out, args.require_v2)
        except OSError as e:
            sys.stderr.write(f"validate_senml.py: {name}: {e.strerror}\n")
            return 2

    extras = []
    if totals.skipped:
        extras.append(f"{totals.skipped} lines of other topics skipped")
    if totals.repeats:
        extras.append(f"{totals.repeats} repeats")
    if totals.gaps:
        extras.append(f"{totals.gaps} seq gaps")
    if extras:
        out.write(f"({', '.join(extras)})\n")
    if totals.passed + totals.failed == 0:
        out.write("no sitegate messages found\n")
    out.write(f"{totals.passed} passed, {totals.failed} failed\n")
    return 0 if totals.failed == 0 and totals.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
