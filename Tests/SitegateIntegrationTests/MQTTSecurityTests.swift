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
            openssl req $ec -keyout client.key -out client.csr -subj '/CN=gw01' 2>/dev/null
            openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2 2>/dev/null
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

    /// One frozen meter every 500 ms, the gateway's password in a file, the agent on the TLS listener trusting
    /// `ca`, and a reader subscribed.
    static func startAgentOverTLS(_ h: Harness, ca: String, password: String) async throws {
        try await h.startSimulator(units: [1], frozen: true)
        try writeFile("\(h.directory)/password", password)
        let config = try h.writeConfig(
            devices: [("main-incomer", 1)], interval: "500ms",
            mqtt: mqttBlock(port: h.broker.tlsPort!, ca: ca, passwordFile: "\(h.directory)/password"))
        try h.startRecorder(username: "reader", password: readerPassword)
        try h.startAgent(config: config)
    }

    @Test func tlsWithPasswordDeliversAndNeverLogsTheSecret() async throws {
        let certs = try await Self.makeCertificates(in: try Harness.prepare("certs"))
        try await Harness.with("tls", tls: certs.tls, authentication: Self.authentication) { h in
            try await Self.startAgentOverTLS(h, ca: certs.ca, password: Self.gatewayPassword + "\n")
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
            let outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: BufferSettings(path: "\(h.directory)/buffer.db"))
            let before = try await outbox.stats()
            outbox.close()
            #expect(before.depth >= 3, "the polls taken during the TLS failure are buffered")
            try h.startAgent(config: right)
            let wanted = Set(before.firstSeq...before.lastSeq)
            try await h.waitForMessages(timeout: .seconds(30)) { wanted.isSubset(of: Set($0.map(\.seq)).union(h.evidenceSeqs())) }
            #expect(await h.agent!.terminate() == 0)
        }
    }

    /// libmosquitto's log is heard only while the client connects (during a session it would format a line for
    /// every packet): after a good session ends, the next connection's TLS failure must still be named.
    @Test func aTLSFailureAfterAGoodSessionIsStillNamed() async throws {
        let dir = try Harness.prepare("certs")
        let certs = try await Self.makeCertificates(in: dir)
        try await Harness.with("tlsagain", tls: certs.tls, authentication: Self.authentication) { h in
            try await Self.startAgentOverTLS(h, ca: certs.ca, password: Self.gatewayPassword)
            try await h.waitForMessages(timeout: .seconds(30)) { $0.count >= 2 }
            #expect(!h.agent!.standardError.contains("certificate verify failed"))

            // The broker comes back with a certificate from another CA.
            await h.broker.stop()
            let resign = try ChildProcess(
                ["sh", "-c", "cd '\(dir)' && openssl x509 -req -in server.csr -CA wrong-ca.crt -CAkey wrong-ca.key -CAcreateserial "
                    + "-out server.crt -days 2 -extfile san.ext 2>&1"],
                directory: dir, name: "resign")
            #expect(await resign.wait(timeout: .seconds(30)) == 0, "\(resign.standardError)")
            try await h.broker.start()
            _ = try await h.agent!.waitForOutput(
                containing: "certificate verify failed", inStandardError: true, timeout: .seconds(30))
            #expect(await h.agent!.terminate() == 0)
        }
    }

    /// A broker that demands client certificates: the gateway's certificate, its key from a systemd credential.
    @Test func clientCertificateFromACredential() async throws {
        let dir = try Harness.prepare("certs")
        var certs = try await Self.makeCertificates(in: dir)
        certs.tls.requireClientCertificate = true
        try await Harness.with("clientcert", tls: certs.tls) { h in
            try await h.startSimulator(units: [1], frozen: true)
            let credentials = try TestEnvironment.makeTemporaryDirectory("credentials")
            try writeFile("\(credentials)/mqtt-client-key", try readFile("\(dir)/client.key"))
            let mqtt = """
                  url: mqtts://127.0.0.1:\(h.broker.tlsPort!)
                  ca_file: \(certs.ca)
                  cert_file: \(dir)/client.crt
                  key_credential: mqtt-client-key
                """
            let config = try h.writeConfig(devices: [("m1", 1)], interval: "500ms", mqtt: mqtt)
            try h.startRecorder()
            try h.startAgent(config: config, environment: ["CREDENTIALS_DIRECTORY": credentials])
            try await h.waitForMessages(timeout: .seconds(30)) { $0.count >= 2 }
            #expect(await h.agent!.terminate() == 0)
            // Without the certificate the broker refuses the TLS handshake.
            let without = try h.writeConfig(
                devices: [("m1", 1)], interval: "500ms",
                mqtt: "  url: mqtts://127.0.0.1:\(h.broker.tlsPort!)\n  ca_file: \(certs.ca)", name: "nocert.yaml")
            let test = try await h.sitegate(["mqtt-test", "--config", without, "--timeout", "5s"])
            #expect(test.status == 1, "\(test.out)")
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

/// `sitegate mqtt-test` names the cause of each failure.
@Suite(.serialized, .timeLimit(.minutes(2))) struct MQTTTestCommandTests {
    @Test func reportsTLSSessionAndEachFailure() async throws {
        let certs = try await MQTTSecurityTests.makeCertificates(in: try Harness.prepare("certs"))
        try await Harness.with("mqtttest", tls: certs.tls, authentication: MQTTSecurityTests.authentication) { h in
            try writeFile("\(h.directory)/password", MQTTSecurityTests.gatewayPassword)
            // mqtt-test also subscribes: give the gateway account read access to its test topic.
            func config(_ name: String, mqtt: String) throws -> String {
                try h.writeConfig(
                    buses: "  - { id: lan, tcp: { host: 127.0.0.1, port: 1502 } }",
                    devices: "  - { id: m1, bus: lan, unit: 1, model: eastron-sdm630, interval: 10s }", name: name)
                    .replacingMQTT(with: mqtt)
            }
            let tls = MQTTSecurityTests.mqttBlock(port: h.broker.tlsPort!, ca: certs.ca, passwordFile: "\(h.directory)/password")
            let good = try await h.sitegate(["mqtt-test", "--config", try config("good.yaml", mqtt: tls)])
            // The ACL lets gw01 write but not read its topics: the test reports exactly that.
            #expect(good.out.contains("tls:         TLSv1."), "\(good.out)")
            #expect(good.out.contains("certificate: /CN=127.0.0.1, issued by /CN=sitegate test CA"))
            #expect(good.out.contains("published:"))
            #expect(good.status == 1 && good.out.contains("did not come back"), "\(good.out)")

            let wrongCA = MQTTSecurityTests.mqttBlock(port: h.broker.tlsPort!, ca: certs.wrongCA, passwordFile: "\(h.directory)/password")
            let ca = try await h.sitegate(["mqtt-test", "--timeout", "4s", "--config", try config("ca.yaml", mqtt: wrongCA)])
            #expect(ca.status == 1 && ca.out.contains("TLS failure: the broker's certificate is not trusted"), "\(ca.out)")

            try writeFile("\(h.directory)/wrong", "nope")
            let badPassword = MQTTSecurityTests.mqttBlock(port: h.broker.tlsPort!, ca: certs.ca, passwordFile: "\(h.directory)/wrong")
            let pw = try await h.sitegate(["mqtt-test", "--timeout", "4s", "--config", try config("pw.yaml", mqtt: badPassword)])
            #expect(pw.status == 1 && pw.out.contains("not authorised"), "\(pw.out)")

            let closed = try FreePort.find()
            let refused = try await h.sitegate([
                "mqtt-test", "--timeout", "3s", "--config", try config("refused.yaml", mqtt: "  url: mqtt://127.0.0.1:\(closed)"),
            ])
            #expect(refused.status == 1 && refused.out.contains("connection refused"), "\(refused.out)")
        }
    }

    @Test func roundTripOnAnOpenBroker() async throws {
        try await Harness.with("mqtttest-open") { h in
            let path = try h.writeConfig(
                buses: "  - { id: lan, tcp: { host: 127.0.0.1, port: 1502 } }",
                devices: "  - { id: m1, bus: lan, unit: 1, model: eastron-sdm630, interval: 10s }")
            let r = try await h.sitegate(["mqtt-test", "--config", path])
            #expect(r.status == 0, "\(r.out)\(r.err)")
            #expect(r.out.contains("read back:   same message after"))
            #expect(r.out.contains("tls:         none"))
        }
    }
}

extension String {
    /// Rewrites the mqtt section of the config file at this path.
    func replacingMQTT(with block: String) throws -> String {
        let text = try readFile(self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(of: "mqtt:") else { return self }
        var end = start + 1
        while end < lines.count, lines[end].hasPrefix(" ") { end += 1 }
        lines.replaceSubrange((start + 1)..<end, with: block.split(separator: "\n").map(String.init))
        try writeFile(self, lines.joined(separator: "\n"))
        return self
    }
}

/// MQTT 5: a publish the broker's ACL denies is refused (PUBACK reason 0x87); the poll stays buffered.
@Suite(.serialized, .timeLimit(.minutes(2))) struct MQTTFiveTests {
    @Test func deniedPublishIsNamedAndKeptBuffered() async throws {
        let auth = MosquittoBroker.Authentication(
            users: ["gw01": "pw", "reader": "pw"],
            acl: "user gw01\ntopic write gia/v1/test-park/gw01/status\ntopic write gia/v1/test-park/gw01/+/meta\n\nuser reader\ntopic read gia/v1/#\n")
        try await Harness.with("mqtt5", authentication: auth) { h in
            try await h.startSimulator(units: [1], frozen: true)
            try writeFile("\(h.directory)/password", "pw")
            let config = try h.writeConfig(
                devices: [("m1", 1)], interval: "1s",
                mqtt: "  url: \(h.broker.url)\n  protocol: \"5\"\n  username: gw01\n  password_file: \(h.directory)/password")
            try h.startAgent(config: config)
            _ = try await h.agent!.waitForOutput(
                containing: "the broker refused a data message: Not authorized", inStandardError: true, timeout: .seconds(20))
            try await Task.sleep(for: .seconds(2))
            #expect(await h.agent!.terminate() == 0)
            let stats = try await h.sitegate(["buffer", "stats", "--config", config, "--json"])
            let depth = JSONValue.parse(stats.out)?["depth"]?.int ?? 0
            #expect(depth >= 2, "refused polls stay in the buffer")
        }
    }
}
