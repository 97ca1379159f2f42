#!/usr/bin/env python3
"""Writes sitegate's man pages from the binary's own argument parser (`sitegate --experimental-dump-help`).

    python3 debian/manpages.py BINARY OUTPUT_DIR

One page per command: sitegate(1), sitegate-run(1), ..., sitegate-maps-lint(1). Generated at package build time,
so they always match the options of the binary they ship with; debian/rules calls it. The date is the changelog's
(SOURCE_DATE_EPOCH, set by dpkg-buildpackage), so two builds of one version give the same pages.
"""
import datetime
import json
import os
import subprocess
import sys


def roff(text):
    """Text as a roff line: backslashes escaped, no line that starts a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text.startswith((".", "'")) else text


def name_of(name):
    return ("-" if name["kind"] == "short" or name["kind"] == "longWithSingleDash" else "--") + name["name"]


def option_label(arg):
    """`-c, --config <config>` in roff: names bold, the value italic."""
    if arg["kind"] == "positional":
        label = "\\fI" + roff(arg["valueName"]) + "\\fR"
    else:
        label = ", ".join("\\fB" + roff(name_of(n)) + "\\fR" for n in arg.get("names", []))
        if arg["kind"] == "option":
            label += " \\fI" + roff(arg["valueName"]) + "\\fR"
    return label + (" ..." if arg.get("isRepeating") else "")


def synopsis_item(arg):
    if arg["kind"] == "positional":
        item = "\\fI" + roff(arg["valueName"]) + "\\fR"
    else:
        name = arg.get("preferredName") or arg["names"][0]
        item = "\\fB" + roff(name_of(name)) + "\\fR"
        if arg["kind"] == "option":
            item += " \\fI" + roff(arg["valueName"]) + "\\fR"
    if arg.get("isRepeating"):
        item += " ..."
    return "[" + item + "]" if arg.get("isOptional") else item


def shown(items):
    return [i for i in items if i.get("shouldDisplay", True) and i.get("commandName") != "help"]


def description(text):
    """The help's discussion: prose lines flow together; indented lines (examples) stay as they are."""
    out, in_example = [], False
    for line in text.splitlines():
        if not line.strip():
            if in_example:
                out += [".fi", ".RE"]
                in_example = False
            out.append(".PP")
        elif line.startswith("  "):
            if not in_example:
                out += [".RS 4", ".nf"]
                in_example = True
            out.append(roff(line.strip()))
        else:
            if in_example:
                out += [".fi", ".RE", ".PP"]
                in_example = False
            out.append(roff(line))
    if in_example:
        out += [".fi", ".RE"]
    return out


def page(command, path, version, date):
    """The lines of one command's page; `path` is its words, ["sitegate", "maps", "lint"]."""
    title = "-".join(path)
    args = shown(command.get("arguments", []))
    subcommands = shown(command.get("subcommands", []))
    lines = [
        '.TH "%s" 1 "%s" "sitegate %s" "sitegate manual"' % (title.upper(), date, version),
        # Left-aligned, no hyphenation: command names such as sitegate-maps-list(1) stay whole.
        ".ad l",
        ".nh",
        ".SH NAME",
        roff(title) + " \\- " + roff(command.get("abstract", "")),
        ".SH SYNOPSIS",
        ".B " + roff(" ".join(path)),
    ]
    if subcommands:
        lines.append("\\fIsubcommand\\fR")
    lines += [synopsis_item(a) for a in args]
    lines.append(".SH DESCRIPTION")
    lines.append(roff(command.get("abstract", "")))
    if command.get("discussion"):
        lines.append(".PP")
        lines += description(command["discussion"])
    if subcommands:
        lines.append(".SH SUBCOMMANDS")
        for sub in subcommands:
            lines += [".TP", "\\fB" + roff(sub["commandName"]) + "\\fR", roff(sub.get("abstract", ""))]
            lines.append("See \\fB" + roff("-".join(path + [sub["commandName"]])) + "\\fR(1).")
    if args:
        lines.append(".SH OPTIONS")
        for arg in args:
            lines += [".TP", option_label(arg), roff(arg.get("abstract", ""))]
            if arg.get("allValues"):
                lines.append("Values: " + roff(", ".join(arg["allValues"])) + ".")
            if arg.get("defaultValue"):
                lines.append("Default: " + roff(arg["defaultValue"]) + ".")
    if len(path) == 1:
        lines += [
            ".SH FILES",
            ".TP", "\\fI/etc/sitegate/site.yaml\\fR", "The site config (a conffile).",
            ".TP", "\\fI/etc/sitegate/credentials/\\fR",
            "Secrets, handed to the service as systemd credentials.",
            ".TP", "\\fI/var/lib/sitegate/\\fR", "The reading buffer (SQLite).",
            ".TP", "\\fI/usr/share/sitegate/devicemaps/\\fR", "The shipped device maps and example sites.",
            ".TP", "\\fI/usr/share/doc/sitegate/\\fR",
            "The guides: operations.md (install, upgrade, remove), config.md, field\\-guide.md, payload.md.",
        ]
    see_also = ["sitegate"] if len(path) > 1 else []
    see_also += ["-".join(path + [s["commandName"]]) for s in subcommands]
    if see_also:
        lines += [".SH SEE ALSO", ", ".join("\\fB" + roff(s) + "\\fR(1)" for s in see_also)]
    return lines


def write_pages(command, path, outdir, version, date):
    with open(os.path.join(outdir, "-".join(path) + ".1"), "w", encoding="utf-8") as f:
        f.write("\n".join(page(command, path, version, date)) + "\n")
    count = 1
    for sub in shown(command.get("subcommands", [])):
        count += write_pages(sub, path + [sub["commandName"]], outdir, version, date)
    return count


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: manpages.py BINARY OUTPUT_DIR")
    binary, outdir = sys.argv[1], sys.argv[2]
    tool = json.loads(subprocess.run([binary, "--experimental-dump-help"], check=True, capture_output=True).stdout)
    version = subprocess.run([binary, "--version"], check=True, capture_output=True, text=True).stdout.strip()
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0")) or int(datetime.datetime.now().timestamp())
    date = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%d")
    os.makedirs(outdir, exist_ok=True)
    command = tool["command"]
    count = write_pages(command, [command["commandName"]], outdir, version, date)
    print("manpages.py: %d pages in %s" % (count, outdir))


if __name__ == "__main__":
    main()
