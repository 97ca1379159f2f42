import Foundation
import SitegateBuffer
import SitegateCore
import SitegateTestSupport
import Testing

/// TLS and password authentication against a real mosquitto, with throwaway certificates made by openssl.
@Suite(.serialized, .timeLimit(.minutes(2))) struct MQTTSecurityTests {
    static let gatewayPassword = "gw secret: do-not-log-me"
    static let readerPassword = "reader-pw"

    static let authentication = MosquittoBroker.Authentication(
        users: ["gw01": gatewayPassword, "reader": readerPassword],
        acl: """
            user gw01
            topic write gia/v1/test-park/gw01/#

            user reader
            topic read gia/v1/#

            """)

    /// A CA and a server certificate for 127.0.0.1, plus an unrelated CA.
    static func makeCertificates(in dir: String) async throws -> (ca: String, wrongCA: String, tls: MosquittoBroker.TLSListener) {
        let script = """
            set -e
            cd '\(dir)'
            ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
            openssl req -x509 $ec -keyout ca.key -out ca.crt -days 2 -subj '/CN=sitegate test CA' 2>/dev/null
            openssl req -x509 $ec -keyout wrong-ca.key -out wrong-ca.crt -days 2 -subj '/CN=someone else' 2>/dev/null
            openssl req $ec -keyout server.key -out server.csr -subj '/CN=127.0.0.1' 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
                -extfile san.ext 2>/dev/null
            chmod 644 server.key
            """
        let p = try ChildProcess(["sh", "-c", script], directory: dir, name: "openssl")
        guard await p.wait(timeout: .seconds(30)) == 0 else { throw TestSupportError("openssl failed: \(p.standardError)") }
        return (
            "\(dir)/ca.crt", "\(dir)/wrong-ca.crt",
            .init(caFile: "\(dir)/ca.crt", certFile: "\(dir)/server.crt", keyFile: "\(dir)/server.key")
        )
    }

    static func mqttBlock(port: Int, ca: String, passwordFile: String) -> String {
        """
          url: mqtts://127.0.0.1:\(port)
          topic_prefix: gia/v1
          ca_file: \(ca)
          username: gw01
          password_file: \(passwordFile)
        """
    }

    @Test func tlsWithPasswordDeliversAndNeverLogsTheSecret() async throws {
        let certs = try await Self.makeCertificates(in: try Harness.prepare("certs"))
        try await Harness.with("tls", tls: certs.tls, authentication: Self.authentication) { h in
            try await h.startSimulator(units: [1], frozen: true)
            try writeFile("\(h.directory)/password", Self.gatewayPassword + "\n")
            let config = try h.writeConfig(
                devices: [("main-incomer", 1)], interval: "500ms",
                mqtt: Self.mqttBlock(port: h.broker.tlsPort!, ca: certs.ca, passwordFile: "\(h.directory)/password"))
            try h.startRecorder(username: "reader", password: Self.readerPassword)
            try h.startAgent(config: config)
            try await h.waitForMessages(timeout: .seconds(30)) { $0.count >= 3 }
            #expect(await h.agent!.terminate() == 0)
            #expect(!h.agent!.standardError.contains(Self.gatewayPassword))
            #expect(!h.agent!.standardError.contains("do-not-log-me"))
        }
    }

    @Test func wrongCAIsReportedAndLosesNothing() async throws {
        let certs = try await Self.makeCertificates(in: try Harness.prepare("certs"))
        try await Harness.with("wrongca", tls: certs.tls, authentication: Self.authentication) { h in
            try await h.startSimulator(units: [1], frozen: true)
            try writeFile("\(h.directory)/password", Self.gatewayPassword)
            let wrong = try h.writeConfig(
                devices: [("main-incomer", 1)], interval: "500ms",
                mqtt: Self.mqttBlock(port: h.broker.tlsPort!, ca: certs.wrongCA, passwordFile: "\(h.directory)/password"),
                name: "wrong.yaml")
            try h.startRecorder(username: "reader", password: Self.readerPassword)
            try h.startAgent(config: wrong)
            _ = try await h.agent!.waitForOutput(containing: "certificate verify failed", inStandardError: true, timeout: .seconds(20))
            try await Task.sleep(for: .seconds(2))  // polls keep being buffered meanwhile
            #expect(await h.agent!.terminate() == 0)
            #expect(h.dataMessages().isEmpty)

            let right = try h.writeConfig(
                devices: [("main-incomer", 1)], interval: "500ms",
                mqtt: Self.mqttBlock(port: h.broker.tlsPort!, ca: certs.ca, passwordFile: "\(h.directory)/password"),
                name: "right.yaml")
            let outbox = try await Outbox(settings: BufferSettings(path: "\(h.directory)/buffer.db"))
            let before = try await outbox.stats()
            outbox.close()
            #expect(before.depth >= 3, "the polls taken during the TLS failure are buffered")
            try h.startAgent(config: right)
            let wanted = Set(before.firstSeq...before.lastSeq)
            try await h.waitForMessages(timeout: .seconds(30)) { wanted.isSubset(of: Set($0.map(\.seq))) }
            #expect(await h.agent!.terminate() == 0)
        }
    }

    @Test func badPasswordNamesTheCause() async throws {
        try await Harness.with("badpw", authentication: Self.authentication) { h in
            try await h.startSimulator(units: [1], frozen: true)
            try writeFile("\(h.directory)/password", "wrong")
            let config = try h.writeConfig(
                devices: [("main-incomer", 1)], interval: "1s",
                mqtt: "  url: \(h.broker.url)\n  username: gw01\n  password_file: \(h.directory)/password")
            try h.startAgent(config: config)
            _ = try await h.agent!.waitForOutput(
                containing: "the broker refused the connection: Connection Refused: not authorised", inStandardError: true,
                timeout: .seconds(20))
            #expect(await h.agent!.terminate() == 0)
        }
    }

    @Test func missingCredentialStopsWithAClearMessage() async throws {
        try await Harness.with("nocred") { h in
            try await h.startSimulator(units: [1], frozen: true)
            let config = try h.writeConfig(
                devices: [("main-incomer", 1)], interval: "1s",
                mqtt: "  url: \(h.broker.url)\n  username: gw01\n  password_credential: mqtt-password")
            try h.startAgent(config: config)
            let status = await h.agent!.wait(timeout: .seconds(10))
            #expect(status != nil && status != 0)
            #expect(h.agent!.standardError.contains("credential 'mqtt-password' needs $CREDENTIALS_DIRECTORY"))
            // With systemd's credentials directory (LoadCredential=), the same config starts.
            try writeFile("\(h.directory)/mqtt-password", "x")
            try h.startAgent(config: config, environment: ["CREDENTIALS_DIRECTORY": h.directory])
            _ = try await h.agent!.waitForOutput(containing: "sitegate running", inStandardError: true, timeout: .seconds(10))
            #expect(await h.agent!.terminate() == 0)
        }
    }
}
