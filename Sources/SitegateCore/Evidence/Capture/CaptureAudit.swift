/// `sitegate audit`: the per-slot account of every counter point in a capture (docs/evidence.md, "Auditing a
/// capture"). Pure: it works on the verify pass's chains and the capture's retained meta.
public struct CaptureAudit: Sendable {
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case measured = "MEASURED", estimated = "ESTIMATED", missing = "MISSING", invalid = "INVALID"
    }

    public struct Options: Sendable {
        /// The slot length, seconds (slots are aligned to UTC: to multiples of it since 1970).
        public var slotSeconds: Int64
        /// Counter points to account for, instead of those the retained meta calls `counter`.
        public var counters: [String]?

        public init(slotSeconds: Int64 = 900, counters: [String]? = nil) {
            self.slotSeconds = slotSeconds
            self.counters = counters
        }
    }

    public struct Row: Sendable, Hashable {
        public var device: String
        public var point: String
        public var unit: String?
        /// Unix seconds.
        public var slotStart: Int64
        public var slotEnd: Int64
        public var status: Status
        /// The slot's energy (or volume): end value − start value, for MEASURED and ESTIMATED.
        public var energy: Double?
        /// The register interpolated at the slot's boundaries (when bracketed).
        public var startValue: Double?
        public var endValue: Double?
        /// Data messages of the device received for the slot (`bt` in it).
        public var received: Int
        /// From the slot's checkpoint: data messages committed, and ticks due; nil without a checkpoint.
        public var committed: Int?
        public var due: Int?
        public var reasons: [String]
    }

    public struct Gateway: Sendable {
        public var gateway: String
        /// The verify pass's result for the stream: messages, holes, the worst class (0: verified).
        public var messages: Int
        public var declaredHoles: Int
        public var undeclaredHoles: Int
        public var verifyExit: Int
        public var signaturesChecked: Bool
        public var rows: [Row]
    }

    public var slotSeconds: Int64
    public var gateways: [Gateway]

    /// Audits what `verification` found in `lines`.
    public init(lines: [CaptureRecord], verification: (report: VerifyReport, chains: [CaptureVerifier.Chain]), options: Options) {
        slotSeconds = options.slotSeconds
        var metas: [String: [String: DeviceMetaMessage]] = [:]
        for line in lines {
            if case .meta(let gateway, let device) = CaptureTopic(line.topic),
                let meta = DeviceMetaMessage(json: String(decoding: line.payload, as: UTF8.self))
            {
                metas[gateway, default: [:]][device] = meta
            }
        }
        gateways = zip(verification.report.gateways, verification.chains).map { report, chain in
            let rows = GatewayAudit(chain: chain, report: report, metas: metas[chain.gateway] ?? [:], options: options).rows()
            return Gateway(
                gateway: chain.gateway, messages: report.messages,
                declaredHoles: report.holes.filter { $0.declaredReason != nil }.count,
                undeclaredHoles: report.holes.filter { $0.declaredReason == nil }.count,
                verifyExit: report.worst?.rawValue ?? 0, signaturesChecked: verification.report.signaturesChecked,
                rows: rows)
        }
    }
}
