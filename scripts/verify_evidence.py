#!/usr/bin/env python3
"""Verify a capture of sitegate's signed, chained messages: a second implementation of `sitegate verify`.

Written from docs/evidence.md and docs/payload.md alone (not from the Swift sources), so that the tests prove the
format can be implemented by others. Standard library plus Debian's python3-cryptography (Ed25519).

    verify_evidence.py CAPTURE [--keys FILE]

CAPTURE is an NDJSON capture (`sitegate record`): one object a line with `topic` and `payload` (the exact bytes
received, standard base64). Data messages (`.../{device}/data`) and evidence messages (`.../evidence`) are
checked per gateway (the topic up to the gateway level); other topics (status, meta, health) are skipped.
Without --keys, signatures are not checked (form, duplicates and chain still are). Data messages of contract v1
(no prev, kid, poll or signature: from a buffer upgraded to v2) are counted and left out, not errors.

Prints one line per finding and a summary per gateway. Exit status, the highest class found:
0 verified, 1 usage or unreadable capture/keys file, 10 undeclared gap, 11 malformed message, 12 broken chain
link, 13 key error, 14 bad signature, 15 equivocation.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover - depends on the environment
    sys.stderr.write("verify_evidence.py needs the cryptography package (Debian: python3-cryptography)\n")
    sys.exit(1)

OK, UNREADABLE, GAP, MALFORMED, LINK, KEY, SIGNATURE, EQUIVOCATION = 0, 1, 10, 11, 12, 13, 14, 15
CLASS_NAMES = {
    OK: "verified", UNREADABLE: "unreadable input", GAP: "undeclared gap", MALFORMED: "malformed message",
    LINK: "broken chain link", KEY: "key error", SIGNATURE: "bad signature", EQUIVOCATION: "equivocation",
}

SIG_MARK = b',"sig":"'
SIG_CHARS = 86  # base64url of 64 bytes, no padding
HASH_CHARS = 43  # base64url of 32 bytes, no padding
B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
KID = re.compile(r"^[0-9a-f]{16}$")


class Unreadable(Exception):
    """The capture or keys file cannot be read: exit 1."""


# Encodings: base64url without padding, strict (canonical: no stray bits, so one value has one spelling).

def b64url_decode(text: str, size: int) -> bytes | None:
    if not B64URL.match(text):
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != size or b64url(raw) != text:
        return None
    return raw


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def message_hash(payload: bytes) -> str:
    """What the next message's `prev` holds: SHA-256 over the whole payload, signature included."""
    return b64url(hashlib.sha256(payload).digest())


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).digest()[:8].hex()


# Keys file: `ed25519 PUBLIC [from=RFC3339] [until=RFC3339]`, `#` comments, blank lines ignored.

@dataclass
class KeyEntry:
    kid: str
    public_key: bytes
    from_ms: int | None
    until_ms: int | None  # exclusive

    def valid_at(self, time_ms: int) -> bool:
        return (self.from_ms is None or time_ms >= self.from_ms) and (self.until_ms is None or time_ms < self.until_ms)


def rfc3339_ms(text: str) -> int | None:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return round(when.astimezone(timezone.utc).timestamp() * 1000)


def read_keys(path: str) -> dict[str, list[KeyEntry]]:
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise Unreadable(f"{path}: error: cannot read the keys file: {e}")
    keys: dict[str, list[KeyEntry]] = {}
    for number, line in enumerate(lines, 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue

        def fail(message: str) -> Unreadable:
            return Unreadable(f"{path}:{number}: error: {message}")

        if words[0] != "ed25519":
            raise fail(f"unknown key algorithm '{words[0]}' (only ed25519)")
        if len(words) < 2:
            raise fail("missing public key after 'ed25519'")
        public_key = b64url_decode(words[1], 32)
        if public_key is None:
            raise fail("the public key is not 32 bytes in base64url without padding (43 characters)")
        bounds: dict[str, int] = {}
        for word in words[2:]:
            name, eq, value = word.partition("=")
            if not eq or name not in ("from", "until") or name in bounds:
                raise fail(f"unexpected '{word}' (expected from=TIME or until=TIME, each at most once)")
            ms = rfc3339_ms(value)
            if ms is None:
                raise fail(f"'{value}' is not an RFC 3339 time with a time zone (e.g. 2026-12-01T00:00:00Z)")
            bounds[name] = ms
        if "from" in bounds and "until" in bounds and bounds["until"] <= bounds["from"]:
            raise fail("until= is not after from=")
        kid = key_id(public_key)
        keys.setdefault(kid, []).append(KeyEntry(kid, public_key, bounds.get("from"), bounds.get("until")))
    return keys


# One received message, checked for form.

@dataclass
class Message:
    line: int
    topic: str
    kind: str  # "data" or "evidence"
    payload: bytes
    problems: list[str] = field(default_factory=list)  # form problems (class 11)
    head: dict[str, Any] | None = None  # the object holding seq, prev, kid: a pack's first record, or the message
    seq: int | None = None
    prev: str | None = None
    kid: str | None = None
    signed: bytes | None = None  # S
    signature: bytes | None = None
    time_ms: int | None = None
    evidence_kind: str | None = None
    hash: str = ""
    copies: int = 1
    trusted: bool = False  # its signature verified with a key valid for it (or no keys given)
    v1: bool = False  # contract v1 bytes (docs/evidence.md, "Upgrading from v1"): counted, not verifiable


def strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise ValueError(f"duplicate member '{name}'")
        out[name] = value
    return out


def reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def whitespace_outside_strings(text: str) -> bool:
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in " \t\r\n":
            return True
    return False


def is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_message(msg: Message, device_topic: tuple[str, str, str] | None) -> None:
    """Fills in msg from its bytes by the byte rule; records form problems. device_topic: (site, gateway, device)."""
    payload = msg.payload
    msg.hash = message_hash(payload)
    closing = b'"}]' if msg.kind == "data" else b'"}'
    mark = payload.rfind(SIG_MARK)
    sig_text = None
    if mark >= 0:
        tail = payload[mark + len(SIG_MARK):]
        sig_part, end = tail[:SIG_CHARS], tail[SIG_CHARS:]
        if end != closing:
            msg.problems.append(f"the signature is not followed by exactly {closing.decode()} up to the end")
        else:
            sig_text = sig_part.decode("ascii", "replace")
            msg.signature = b64url_decode(sig_text, 64)
            if msg.signature is None:
                msg.problems.append("sig is not 64 bytes in base64url without padding (86 characters)")
            msg.signed = payload[:mark]

    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        msg.problems.append("not UTF-8")
        return
    try:
        value = json.loads(text, object_pairs_hook=strict_object, parse_constant=reject_constant)
    except ValueError as e:
        msg.problems.append(f"not JSON: {e}")
        return
    if whitespace_outside_strings(text):
        msg.problems.append("whitespace outside strings")

    if msg.kind == "data":
        if not isinstance(value, list) or not value or not all(isinstance(r, dict) for r in value):
            msg.problems.append("a data message is not a non-empty array of objects (SenML pack)")
            return
        msg.head, last = value[0], value[-1]
    else:
        if not isinstance(value, dict):
            msg.problems.append("an evidence message is not a JSON object")
            return
        msg.head = last = value
    head = msg.head

    if is_integer(head.get("seq")) and head["seq"] >= 1:
        msg.seq = head["seq"]
    else:
        msg.problems.append("seq is missing or not a positive integer")

    # A data pack without prev, kid, poll and signature is v1, published from a buffer a version before v2 left
    # ("Upgrading from v1"): not an error, and not part of the chain.
    if msg.kind == "data" and msg.seq is not None and mark < 0 and not any(k in head for k in ("prev", "kid", "poll")):
        msg.v1 = True
        msg.problems = []
        return

    if msg.signed is not None:
        if last.get("sig") != sig_text:
            msg.problems.append('the ,"sig":" found is not the last object\'s sig member')
    elif "sig" in last or (msg.kind == "data" and any("sig" in r for r in value)):
        msg.problems.append("sig present but not as the last member of the last object")

    if msg.kind == "evidence":
        kind = head.get("kind")
        if not isinstance(kind, str) or not kind:
            msg.problems.append("kind is missing or not a string")
        else:
            msg.evidence_kind = kind
        if next(iter(head), None) != "kind":
            msg.problems.append("kind is not the first member")
        time_value, time_name = head.get("time"), "time"
    else:
        time_value, time_name = head.get("bt"), "bt"
        if device_topic is not None:
            site, gateway, device = device_topic
            expected = f"urn:dev:gia:{site}:{gateway}:{device}:"
            if head.get("bn") != expected:
                msg.problems.append(f"bn {head.get('bn')!r} does not match the topic (expected {expected!r})")
    if is_number(time_value):
        msg.time_ms = round(time_value * 1000)
    else:
        msg.problems.append(f"{time_name} is missing or not a number")

    prev = head.get("prev")
    if msg.evidence_kind == "chain-start":
        if prev is not None:
            msg.problems.append("a chain-start has a prev")
    elif prev is None:
        msg.problems.append("prev is missing (only a chain-start has none)")
    elif not isinstance(prev, str) or b64url_decode(prev, 32) is None:
        msg.problems.append("prev is not a SHA-256 in base64url without padding (43 characters)")
    else:
        msg.prev = prev

    kid = head.get("kid")
    if kid is not None:
        if isinstance(kid, str) and KID.match(kid):
            msg.kid = kid
        else:
            msg.problems.append("kid is not 16 lowercase hex digits")
    if msg.signed is not None and kid is None:
        msg.problems.append("signed but without kid")
    if msg.signed is None and kid is not None:
        msg.problems.append("kid present but the message is not signed")


# The capture.

def classify(topic: str) -> tuple[str, str, tuple[str, str, str] | None] | None:
    """(kind, gateway key, (site, gateway, device) for data) or None for topics outside the chain."""
    levels = topic.split("/")
    if len(levels) >= 5 and levels[-1] == "data":
        return "data", "/".join(levels[:-2]), (levels[-4], levels[-3], levels[-2])
    if len(levels) >= 4 and levels[-1] == "evidence":
        return "evidence", "/".join(levels[:-1]), None
    return None


def read_capture(path: str) -> tuple[dict[str, list[Message]], int]:
    try:
        f = sys.stdin if path == "-" else open(path, encoding="utf-8")
        with f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise Unreadable(f"{path}: error: cannot read the capture: {e}")
    gateways: dict[str, list[Message]] = {}
    skipped = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as e:
            raise Unreadable(f"{path}:{number}: error: not a JSON object: {e}")
        if not isinstance(record, dict) or not isinstance(record.get("topic"), str) \
                or not isinstance(record.get("payload"), str):
            raise Unreadable(f"{path}:{number}: error: a capture line needs a string topic and payload")
        try:
            payload = base64.b64decode(record["payload"], validate=True)
        except (binascii.Error, ValueError):
            raise Unreadable(f"{path}:{number}: error: payload is not standard base64")
        where = classify(record["topic"])
        if where is None:
            skipped += 1
            continue
        kind, gateway, device_topic = where
        msg = Message(number, record["topic"], kind, payload)
        parse_message(msg, device_topic)
        gateways.setdefault(gateway, []).append(msg)
    return gateways, skipped


# Verifying one gateway's messages.

@dataclass
class Run:
    """A run of sequence numbers a gap notice declares deleted."""
    notice: int
    from_seq: int
    to_seq: int
    first_prev: str | None  # None: the run begins with a chain-start, which declares everything before it
    last_hash: str


class Verifier:
    def __init__(self, gateway: str, keys: dict[str, list[KeyEntry]] | None):
        self.gateway = gateway
        self.keys = keys
        self.endorsed: dict[str, tuple[bytes, int]] = {}  # kid -> (public key, handover seq): trusted after it
        self.retired: dict[str, int] = {}  # kid -> handover seq: not valid after it
        self.findings: list[tuple[int, str]] = []
        self.notes: list[str] = []
        self.runs: list[Run] = []
        self.loaded: dict[bytes, Ed25519PublicKey] = {}
        self.stats = {"received": 0, "redeliveries": 0, "unsigned": 0, "declared": 0, "chain_starts": 0,
                      "handovers": 0, "gap_notices": 0, "v1": 0}

    def find(self, cls: int, msg: Message | None, text: str) -> None:
        where = ""
        if msg is not None:
            where = f"seq {msg.seq} (line {msg.line}): " if msg.seq is not None else f"line {msg.line}: "
        self.findings.append((cls, f"{self.gateway}: {where}{CLASS_NAMES[cls]}: {text}"))

    def verify(self, messages: list[Message]) -> None:
        self.stats["received"] = sum(1 for m in messages if not m.v1)
        by_seq: dict[int, list[Message]] = {}
        for msg in messages:
            if msg.v1:
                self.stats["v1"] += 1
                continue
            for problem in msg.problems:
                self.find(MALFORMED, msg, problem)
            if msg.seq is None:
                continue
            variants = by_seq.setdefault(msg.seq, [])
            same = next((v for v in variants if v.payload == msg.payload), None)
            if same is not None:
                same.copies += 1
                self.stats["redeliveries"] += 1
            else:
                variants.append(msg)

        chain: list[Message] = []
        for seq in sorted(by_seq):
            chain.append(self.settle(by_seq[seq]))
        self.check_links(chain)
        if chain:
            start = "a chain-start" if chain[0].evidence_kind == "chain-start" else "mid-chain"
            self.notes.append(f"seq {chain[0].seq} .. {chain[-1].seq}, {len(chain)} distinct; starts {start}")

    def settle(self, variants: list[Message]) -> Message:
        """Checks the signatures of every different message with one seq; returns the one that stands in the
        chain. Two that both verify (or, without keys, any two) are equivocation."""
        for msg in variants:
            self.check_signature(msg)
        if len(variants) > 1:
            good = [m for m in variants if m.trusted] if self.keys is not None else variants
            lines = ", ".join(str(m.line) for m in variants)
            if len(good) > 1:
                self.find(EQUIVOCATION, variants[0], f"{len(variants)} different messages with this seq (lines {lines})")
            elif self.keys is not None and not good:
                self.notes.append(f"seq {variants[0].seq}: {len(variants)} different copies, none verifies")
        chosen = next((m for m in variants if m.trusted), variants[0])
        self.take_evidence(chosen)
        return chosen

    def check_signature(self, msg: Message) -> None:
        if SIG_MARK not in msg.payload:
            self.stats["unsigned"] += 1
        if self.keys is None:
            msg.trusted = True
            return
        if msg.signed is None or msg.signature is None or msg.kid is None:
            if SIG_MARK not in msg.payload:  # else malformed, reported as such
                self.find(KEY, msg, "unsigned message while keys are given")
            return
        public_key, valid, why = self.key_for(msg)
        if public_key is None:
            self.find(KEY, msg, f"unknown key id {msg.kid}")
            return
        try:
            self.public_key(public_key).verify(msg.signature, msg.signed)
        except InvalidSignature:
            self.find(SIGNATURE, msg, f"the signature does not verify with key {msg.kid}")
            return
        if not valid:
            self.find(KEY, msg, why)
            return
        msg.trusted = True

    def public_key(self, raw: bytes) -> Ed25519PublicKey:
        if raw not in self.loaded:
            self.loaded[raw] = Ed25519PublicKey.from_public_bytes(raw)
        return self.loaded[raw]

    def key_for(self, msg: Message) -> tuple[bytes | None, bool, str]:
        assert self.keys is not None and msg.kid is not None and msg.seq is not None
        entries = self.keys.get(msg.kid, [])
        endorsed = self.endorsed.get(msg.kid)
        if not entries and endorsed is None:
            return None, False, ""
        public_key = entries[0].public_key if entries else endorsed[0]
        retired = self.retired.get(msg.kid)
        if retired is not None and msg.seq > retired:
            return public_key, False, f"key {msg.kid} was handed over at seq {retired} and signs no later message"
        if endorsed is not None and msg.seq > endorsed[1]:
            return public_key, True, ""
        if msg.time_ms is not None and any(e.valid_at(msg.time_ms) for e in entries):
            return public_key, True, ""
        if endorsed is not None and not entries:
            return public_key, False, f"key {msg.kid} is endorsed only from seq {endorsed[1] + 1} on"
        when = datetime.fromtimestamp(msg.time_ms / 1000, timezone.utc).isoformat() if msg.time_ms else "?"
        return public_key, False, f"key {msg.kid} is not valid at the message's time {when}"

    def take_evidence(self, msg: Message) -> None:
        """What a gap notice, chain-start or key-handover tells the verifier (only from a trusted message)."""
        head = msg.head
        if head is None or msg.seq is None or msg.evidence_kind is None:
            return
        if msg.evidence_kind == "chain-start":
            self.stats["chain_starts"] += 1
        elif msg.evidence_kind == "gap":
            self.take_gap(msg, head)
        elif msg.evidence_kind == "key-handover":
            self.take_handover(msg, head)

    def take_gap(self, msg: Message, head: dict[str, Any]) -> None:
        self.stats["gap_notices"] += 1
        first, last, count = head.get("from_seq"), head.get("to_seq"), head.get("count")
        first_prev, last_hash = head.get("first_prev"), head.get("last_hash")
        if not (is_integer(first) and is_integer(last) and is_integer(count)) or not 1 <= first <= last < msg.seq \
                or count != last - first + 1:
            self.find(MALFORMED, msg, "a gap notice needs integers from_seq <= to_seq < its seq and count = "
                                      "to_seq - from_seq + 1")
            return
        hashes = (last_hash,) if first_prev is None else (first_prev, last_hash)
        if not all(isinstance(h, str) and b64url_decode(h, 32) is not None for h in hashes):
            self.find(MALFORMED, msg, "a gap notice needs last_hash and first_prev (43 base64url characters; "
                                      "first_prev null when the run begins with a chain-start)")
            return
        if msg.trusted:
            self.runs.append(Run(msg.seq, first, last, first_prev, last_hash))

    def take_handover(self, msg: Message, head: dict[str, Any]) -> None:
        self.stats["handovers"] += 1
        next_kid, next_public = head.get("next_kid"), head.get("next_public_key")
        endorsed = head.get("endorsed", True)
        public_key = b64url_decode(next_public, 32) if isinstance(next_public, str) else None
        if public_key is None or not isinstance(next_kid, str) or not isinstance(endorsed, bool):
            self.find(MALFORMED, msg, "a key-handover needs next_kid, next_public_key (43 base64url characters) "
                                      "and a boolean endorsed when present")
            return
        if key_id(public_key) != next_kid:
            self.find(KEY, msg, f"next_kid {next_kid} is not the key id of next_public_key ({key_id(public_key)})")
            return
        previous_kid = head.get("previous_kid")
        if previous_kid is not None and (not isinstance(previous_kid, str) or not KID.match(previous_kid)):
            self.find(MALFORMED, msg, "previous_kid is not 16 lowercase hex digits")
            return
        if not endorsed:
            self.notes.append(f"seq {msg.seq}: key-handover to {next_kid} not endorsed (register it out of band)")
            if msg.trusted and self.keys is not None and previous_kid is not None and previous_kid != next_kid:
                self.retired.setdefault(previous_kid, msg.seq)  # the lost key signs nothing after this
            return
        if msg.kid == next_kid or (previous_kid is not None and previous_kid != msg.kid):
            self.find(KEY, msg, "an endorsed key-handover must be signed by the old key (previous_kid), "
                                "not the new one")
            return
        if msg.trusted and self.keys is not None and msg.kid is not None:
            self.endorsed.setdefault(next_kid, (public_key, msg.seq))
            self.retired.setdefault(msg.kid, msg.seq)
            self.notes.append(f"seq {msg.seq}: key {msg.kid} hands over to {next_kid}")

    def check_links(self, chain: list[Message]) -> None:
        runs = sorted(self.runs, key=lambda r: (r.from_seq, r.to_seq))
        for before, after in zip(chain, chain[1:]):
            assert before.seq is not None and after.seq is not None
            if after.evidence_kind == "chain-start":
                if after.seq > before.seq + 1:
                    self.stats["declared"] += after.seq - before.seq - 1
                continue
            if after.seq == before.seq + 1:
                if after.prev is not None and after.prev != before.hash:
                    self.find(LINK, after, f"prev does not match the hash of seq {before.seq}")
                continue
            self.check_hole(before, after, runs)

    def check_hole(self, before: Message, after: Message, runs: list[Run]) -> None:
        """Seq numbers before.seq+1 .. after.seq-1 were not received: gap notices must declare each, and link
        the message before the hole to the one after it."""
        assert before.seq is not None and after.seq is not None
        low, high = before.seq + 1, after.seq - 1
        position, link = low, before.hash  # link: the hash that the next seq's prev must hold, when known
        for run in runs:
            if run.to_seq < position or run.from_seq > high:
                continue
            if run.from_seq > position:
                if run.first_prev is None:  # a deleted chain-start declared what lies before it
                    self.stats["declared"] += run.from_seq - position
                else:
                    self.undeclared(position, run.from_seq - 1, after)
                link = None
            elif run.from_seq == position and None not in (link, run.first_prev) and run.first_prev != link:
                self.find(LINK, after, f"the gap notice at seq {run.notice} (from_seq {run.from_seq}): first_prev "
                                       f"does not match the hash of seq {run.from_seq - 1}")
            elif run.from_seq < position:
                link = None  # the run also covers messages that were received: its first_prev links elsewhere
            self.stats["declared"] += min(run.to_seq, high) - max(run.from_seq, position) + 1
            position, link = run.to_seq + 1, run.last_hash
            if position > high:
                break
        if position <= high:
            self.undeclared(position, high, after)
            link = None
        if position == high + 1 and link is not None and after.prev is not None and after.prev != link:
            self.find(LINK, after, f"prev does not match the last_hash declared for seq {high}")

    def undeclared(self, low: int, high: int, after: Message) -> None:
        count = high - low + 1
        span = f"seq {low}" if count == 1 else f"seq {low} .. {high} ({count} messages)"
        self.find(GAP, None, f"{span} missing, "
                             f"no gap notice or chain-start declares {'it' if count == 1 else 'them'} "
                             f"(next received: seq {after.seq}, line {after.line})")


def main(argv: list[str]) -> int:
    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # usage errors exit 1, as documented
            self.print_usage(sys.stderr)
            sys.stderr.write(f"{self.prog}: error: {message}\n")
            sys.exit(UNREADABLE)

    parser = Parser(description="Verify a sitegate NDJSON capture: signatures, keys, duplicates, chain, gaps.")
    parser.add_argument("capture", help="NDJSON capture from `sitegate record` ('-' for stdin)")
    parser.add_argument("--keys", help="keys file: `ed25519 PUBLIC_KEY [from=TIME] [until=TIME]` per line")
    args = parser.parse_args(argv)
    try:
        keys = read_keys(args.keys) if args.keys else None
        gateways, skipped = read_capture(args.capture)
    except Unreadable as e:
        sys.stderr.write(f"{e}\n")
        return UNREADABLE

    worst = OK
    if keys is None:
        print("note: no --keys: signatures and keys not checked")
    for gateway in sorted(gateways):
        verifier = Verifier(gateway, keys)
        verifier.verify(gateways[gateway])
        for cls, line in verifier.findings:
            print(line)
            worst = max(worst, cls)
        s = verifier.stats
        for note in verifier.notes:
            print(f"{gateway}: note: {note}")
        print(f"{gateway}: {s['received']} received, {s['redeliveries']} redeliveries, {s['unsigned']} unsigned, "
              f"{s['gap_notices']} gap notices, {s['declared']} seq declared missing, {s['chain_starts']} "
              f"chain-starts, {s['handovers']} key-handovers, {len(verifier.findings)} findings")
        if s["v1"]:
            print(f"{gateway}: note: {s['v1']} messages of contract v1 (from before an upgrade): not verifiable, left out")
    if not gateways:
        print("note: no data or evidence messages in the capture")
    if skipped:
        print(f"note: {skipped} messages on other topics skipped")
    print(f"result: {worst} ({CLASS_NAMES[worst]})")
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
