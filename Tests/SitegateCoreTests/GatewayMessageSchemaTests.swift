import Foundation
import SitegateCore
import Testing

/// docs/gateway-messages.schema.json and the message types name the same keys, both ways.
@Suite struct GatewayMessageSchemaTests {
    static let schema: JSONValue = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try! String(contentsOf: root.appendingPathComponent("docs/gateway-messages.schema.json"), encoding: .utf8)
        return JSONValue.parse(text)!
    }()

    /// The property names of the schema object at `path` (keys below `$defs`).
    func properties(_ path: [String]) -> Set<String> {
        var node: JSONValue? = Self.schema["$defs"]
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
}
