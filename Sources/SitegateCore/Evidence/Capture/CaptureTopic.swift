/// What a captured topic is, by the layout of docs/payload.md: `{prefix}/{site}/{gateway}/{device}/data`,
/// `…/{gateway}/evidence`, `…/{gateway}/{device}/meta`; anything else (status, health) is not part of the record.
public enum CaptureTopic: Sendable, Hashable {
    case data(gateway: String, device: String)
    case evidence(gateway: String)
    case meta(gateway: String, device: String)
    case other

    public init(_ topic: String) {
        let parts = topic.split(separator: "/", omittingEmptySubsequences: false)
        guard let last = parts.last else {
            self = .other
            return
        }
        switch last {
        // At least prefix/site/gateway: one level of prefix, as the independent verifier reads it.
        case "evidence" where parts.count >= 4:
            self = .evidence(gateway: parts.dropLast().joined(separator: "/"))
        case "data" where parts.count >= 5, "meta" where parts.count >= 5:
            let gateway = parts.dropLast(2).joined(separator: "/")
            let device = String(parts[parts.count - 2])
            self = last == "data" ? .data(gateway: gateway, device: device) : .meta(gateway: gateway, device: device)
        default:
            self = .other
        }
    }

    /// The gateway (`prefix/site/gateway`) of a message in the chain; nil for meta and the rest.
    public var chainGateway: String? {
        switch self {
        case .data(let gateway, _), .evidence(let gateway): gateway
        case .meta, .other: nil
        }
    }
}
