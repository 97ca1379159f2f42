import SitegateMQTT
import Testing

@testable import SitegateAgent

/// A PUBACK reaches the publisher's state machine as `.acknowledged([mid])`; every other input as it came.
@Suite struct PublisherInputTests {
    @Test func aPubackBecomesTheMachinesAcknowledgement() {
        #expect(Publisher.Input.mqtt(.acknowledged(mid: 7)).split().map(describe) == ["acks 7"])
    }

    @Test func otherInputsPassAsTheyAre() {
        #expect(Publisher.Input.newData.split().map(describe) == ["newData"])
        #expect(Publisher.Input.mqtt(.disconnected(code: 7)).split().map(describe) == ["mqtt disconnected(code: 7)"])
        #expect(Publisher.Input.mqtt(.refused(mid: 3, reasonCode: 135)).split().map(describe) == ["mqtt refused(mid: 3, reasonCode: 135)"])
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
