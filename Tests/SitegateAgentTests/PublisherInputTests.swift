import SitegateMQTT
import Testing

@testable import SitegateAgent

/// A turn of the network loop arrives as one batch of events; the publisher's run loop hands each run of PUBACKs to
/// its state machine in one pass, and every other event on its own, in the order they came.
@Suite struct PublisherInputTests {
    @Test func runsOfAcknowledgementsBecomeOneInputInOrder() {
        let batch = Publisher.Input.mqttEvents([
            .acknowledged(mid: 1), .acknowledged(mid: 2), .disconnected(code: 7), .acknowledged(mid: 3),
            .connected(code: 0), .acknowledged(mid: 4), .acknowledged(mid: 5),
        ])
        let split = batch.split().map(describe)
        #expect(split == ["acks 1,2", "mqtt disconnected(code: 7)", "acks 3", "mqtt connected(code: 0)", "acks 4,5"])
    }

    @Test func otherInputsPassAsTheyAre() {
        #expect(Publisher.Input.newData.split().map(describe) == ["newData"])
        #expect(Publisher.Input.mqttEvents([]).split().isEmpty)
        #expect(Publisher.Input.mqttEvents([.log(level: 4, message: "x")]).split().map(describe) == ["mqtt log(level: 4, message: \"x\")"])
    }

    private func describe(_ input: Publisher.Input) -> String {
        switch input {
        case .acknowledged(let mids): "acks " + mids.map(String.init).joined(separator: ",")
        case .mqtt(let event): "mqtt \(event)"
        case .newData: "newData"
        default: "\(input)"
        }
    }
}
