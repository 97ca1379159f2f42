/// What `sitegate verify` found in a capture, per gateway (docs/evidence.md, "Verifying a capture").
public struct VerifyReport: Sendable {
    /// The classes of problems, by exit code; the highest found is the exit code.
    public enum ProblemClass: Int, Sendable, Hashable, Comparable, CaseIterable {
        case undeclaredGap = 10
        case malformed = 11
        case brokenLink = 12
        case keyError = 13
        case badSignature = 14
        case equivocation = 15

        public var name: String {
            switch self {
            case .undeclaredGap: "undeclared-gap"
            case .malformed: "malformed"
            case .brokenLink: "broken-link"
            case .keyError: "key-error"
            case .badSignature: "bad-signature"
            case .equivocation: "equivocation"
            }
        }

        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    }

    public struct Problem: Sendable, Hashable {
        public var problemClass: ProblemClass
        /// The message's `seq`, or the first of a range of missing ones; nil when it could not be read.
        public var seq: Int64?
        /// The last `seq` of a range (undeclared gaps).
        public var toSeq: Int64?
        /// The capture line (1-based) of the message, when one message is at fault.
        public var line: Int?
        public var message: String
    }

    /// A run of `seq`s the capture lacks, declared or not, with what is known of its time.
    public struct Hole: Sendable, Hashable {
        public var fromSeq: Int64
        public var toSeq: Int64
        /// The gap notice's or chain start's reason; nil for an undeclared gap (messages lost after the gateway).
        public var declaredReason: String?
        /// The time span the missing messages lie in: the gap notice's, else the times of the neighbours.
        public var fromTime: UnixTime?
        public var toTime: UnixTime?
        public var count: Int64 { toSeq - fromSeq + 1 }
        /// `seq A..B`, or `seq A` for one.
        public var seqRange: String { fromSeq == toSeq ? "seq \(fromSeq)" : "seq \(fromSeq)..\(toSeq)" }
    }

    public struct Gateway: Sendable {
        public var gateway: String
        /// Distinct `seq`s received (well-formed messages).
        public var messages = 0
        /// Lines that repeated a message byte for byte.
        public var redeliveries = 0
        public var firstSeq: Int64?
        public var lastSeq: Int64?
        /// Whether the first message received is a chain start (else the capture begins mid-chain).
        public var startsWithChainStart = false
        /// Messages per key id whose signature verified.
        public var verifiedByKey: [String: Int] = [:]
        public var unsigned = 0
        /// Data messages of contract v1 (from a buffer upgraded to v2): counted, not verifiable, not in the chain.
        public var v1Messages = 0
        public var holes: [Hole] = []
        public var problems: [Problem] = []

        public init(gateway: String) { self.gateway = gateway }

        public var worst: ProblemClass? { problems.map(\.problemClass).max() }
    }

    public var gateways: [Gateway]
    /// False when no keys file was given: only form and chain were checked.
    public var signaturesChecked: Bool
    /// Lines on other topics (status, meta, health): not part of the record.
    public var otherLines: Int

    /// The exit code of docs/evidence.md: 0, or the highest class found.
    public var exitCode: Int32 { Int32(gateways.compactMap(\.worst).max()?.rawValue ?? 0) }
}

extension VerifyReport {
    public enum JSONKeys: String, JSONKey {
        case exit, signaturesChecked = "signatures_checked", otherLines = "other_lines", gateways
    }
    public enum GatewayKeys: String, JSONKey {
        case gateway, messages, redeliveries, firstSeq = "first_seq", lastSeq = "last_seq"
        case chainStart = "chain_start", verifiedByKey = "verified_by_key", unsigned, v1Messages = "v1_messages"
        case holes, problems
    }
    public enum HoleKeys: String, JSONKey {
        case fromSeq = "from_seq", toSeq = "to_seq", count, declared, reason, fromTime = "from_time", toTime = "to_time"
    }
    public enum ProblemKeys: String, JSONKey {
        case problemClass = "class", exit, seq, toSeq = "to_seq", line, message
    }

    /// `--json`: one object.
    public var json: String {
        let gatewaysJSON = gateways.map { g in
            JSONObjectWriter.object(
                GatewayKeys.self,
                [
                    .gateway: .string(g.gateway), .messages: .int(g.messages), .redeliveries: .int(g.redeliveries),
                    .firstSeq: .int(orNull: g.firstSeq), .lastSeq: .int(orNull: g.lastSeq),
                    .chainStart: .bool(g.startsWithChainStart), .verifiedByKey: .counts(g.verifiedByKey),
                    .unsigned: .int(g.unsigned), .v1Messages: .int(g.v1Messages),
                    .holes: .raw(JSONText.array(g.holes.map(\.json))),
                    .problems: .raw(JSONText.array(g.problems.map(\.json))),
                ])
        }
        return JSONObjectWriter.object(
            JSONKeys.self,
            [
                .exit: .int(exitCode), .signaturesChecked: .bool(signaturesChecked), .otherLines: .int(otherLines),
                .gateways: .raw(JSONText.array(gatewaysJSON)),
            ])
    }

    /// The text report: a few lines per gateway, then one per problem.
    public var lines: [String] {
        var out: [String] = []
        for g in gateways {
            let range = g.firstSeq.map { " (seq \($0)..\(g.lastSeq!))" } ?? ""
            out.append("gateway \(g.gateway): \(g.messages) messages\(range), \(g.redeliveries) redeliveries")
            if signaturesChecked {
                let keys = g.verifiedByKey.keys.sorted().map { "\($0): \(g.verifiedByKey[$0]!)" }.joined(separator: ", ")
                out.append("  signatures: \(g.verifiedByKey.values.reduce(0, +)) verified" + (keys.isEmpty ? "" : " (\(keys))"))
            } else {
                out.append("  signatures: NOT CHECKED (no --keys): only form and chain were verified")
            }
            if g.v1Messages > 0 {
                out.append("  v1: \(g.v1Messages) messages of contract v1 (from before an upgrade): not verifiable, left out")
            }
            if let first = g.firstSeq {
                out.append(
                    g.startsWithChainStart
                        ? "  chain: begins with a chain-start at seq \(first)"
                        : "  chain: the capture begins mid-chain at seq \(first) (what came before is not in it)")
            }
            for hole in g.holes {
                let what = hole.declaredReason.map { "declared (\($0))" } ?? "UNDECLARED: lost after the gateway"
                out.append("  hole: \(hole.seqRange) (\(hole.count) message\(hole.count == 1 ? "" : "s")) \(what)")
            }
            for p in g.problems {
                var at = p.seq.map { "seq \($0)" + (p.toSeq.map { "..\($0)" } ?? "") } ?? "seq ?"
                if let line = p.line { at += " (line \(line))" }
                out.append("  \(p.problemClass.rawValue) \(p.problemClass.name): \(at): \(p.message)")
            }
            out.append("  result: " + (g.worst.map { "FAILED (\($0.rawValue) \($0.name))" } ?? "verified"))
        }
        if gateways.isEmpty { out.append("no chained messages (data or evidence topics) in the capture") }
        return out
    }
}

extension VerifyReport.Hole {
    var json: String {
        JSONObjectWriter.object(
            VerifyReport.HoleKeys.self,
            [
                .fromSeq: .integer(fromSeq), .toSeq: .integer(toSeq), .count: .integer(count),
                .declared: .bool(declaredReason != nil), .reason: .string(orNull: declaredReason),
                .fromTime: fromTime.map { .raw(JSONText.seconds(milliseconds: $0.milliseconds)) } ?? .null,
                .toTime: toTime.map { .raw(JSONText.seconds(milliseconds: $0.milliseconds)) } ?? .null,
            ])
    }
}

extension VerifyReport.Problem {
    var json: String {
        JSONObjectWriter.object(
            VerifyReport.ProblemKeys.self,
            [
                .problemClass: .string(problemClass.name), .exit: .int(problemClass.rawValue),
                .seq: .int(orNull: seq), .toSeq: toSeq.map(JSONField.integer), .line: line.map { .int($0) },
                .message: .string(message),
            ])
    }
}
