import Foundation
import SitegateCore
import Testing

/// docs/gateway-messages.schema.json and the message types name the same keys, both ways.
@Suite struct GatewayMessageSchemaTests {
    static func load(_ name: String) -> JSONValue {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try! String(contentsOf: root.appendingPathComponent("docs/\(name)"), encoding: .utf8)
        return JSONValue.parse(text)!
    }

    static let schema = load("gateway-messages.schema.json")
    static let evidenceSchema = load("evidence-messages.schema.json")

    /// The property names of the schema object at `path` (keys below `$defs`).
    func properties(_ path: [String], in schema: JSONValue = Self.schema) -> Set<String> {
        var node: JSONValue? = schema["$defs"]
        for step in path { node = node?[step] }
        return Set(node?["properties"]?.object?.keys.map { $0 } ?? [])
    }

    func keys<K: JSONKey>(_: K.Type, except: Set<String> = []) -> Set<String> {
        Set(K.allCases.map(\.rawValue)).subtracting(except)
    }

    @Test func statusMetaAndHealthKeysMatchTheSchema() {
        #expect(properties(["status"]) == keys(GatewayStatusMessage.Key.self))
        #expect(properties(["meta"]) == keys(DeviceMetaMessage.Key.self))
        #expect(properties(["meta", "properties", "map"]) == keys(DeviceMetaMessage.MapRef.Key.self))
        #expect(properties(["meta", "properties", "points", "items"]) == keys(DeviceMetaMessage.Point.Key.self))
        #expect(properties(["health"]) == keys(HealthMessage.Key.self))
        #expect(properties(["health", "properties", "devices", "additionalProperties"]) == keys(DeviceHealthFigures.Key.self))
        // last_seq is the status reply's, not the health message's.
        #expect(properties(["health", "properties", "buffer"]) == keys(BufferFigures.Key.self, except: ["last_seq"]))
        #expect(properties(["health", "properties", "buses", "additionalProperties"]) == keys(BusLoadFigures.Key.self))
        #expect(properties(["health", "properties", "broker"]) == keys(HealthMessage.Broker.Key.self))
        #expect(!properties(["health"]).isEmpty, "the schema was found and read")
    }

    /// Each evidence message: the members every one has (`EvidenceKey`) plus its kind's own `Key`.
    @Test(arguments: EvidenceKind.allCases) func evidenceKeysMatchTheSchema(kind: EvidenceKind) throws {
        let common = keys(EvidenceKey.self)
        let own: Set<String>? =
            switch kind {
            case .gap: keys(GapNotice.Key.self)
            case .chainStart: keys(ChainStart.Key.self)
            case .keyHandover: keys(KeyHandover.Key.self)
            // CheckpointMessage.Key lands with the checkpoints; until then the schema's own list is checked
            // against docs/evidence.md's members below.
            case .checkpoint: nil
            }
        let schemaKeys = properties([kind.rawValue], in: Self.evidenceSchema)
        #expect(!schemaKeys.isEmpty, "the evidence schema defines \(kind.rawValue)")
        if let own {
            #expect(schemaKeys == common.union(own))
        } else {
            #expect(schemaKeys == common.union(["slot", "agent", "clock", "devices"]))
        }
        let kinds = Self.evidenceSchema["properties"]?["kind"]?["enum"]?.array?.compactMap(\.string) ?? []
        #expect(Set(kinds) == Set(EvidenceKind.allCases.map(\.rawValue)))
    }
}
