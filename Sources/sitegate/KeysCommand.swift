import ArgumentParser
import SitegateConfig
import SitegateCore
import SitegateCrypto

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Make the key that signs the gateway's messages, and show what to register with the backend.",
        discussion: "docs/operations.md, Signing keys: generating, registering, rotating, a lost key.",
        subcommands: [Generate.self, Show.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new Ed25519 signing key: a PKCS#8 PEM file, mode 0600.",
            discussion: """
                Run as root, the file is given to user sitegate, which the agent runs as. An existing file is never \
                replaced without --force: register the new key with the backend before messages signed with it \
                arrive there, and for a rotation keep the old key as signing.previous_key (docs/operations.md).

                Example:
                  sudo sitegate keys generate
                  sudo sitegate keys generate --output /etc/sitegate/signing-2027.key
                """)

        @Option(name: [.short, .long], help: "Where to write the key.", completion: .file())
        var output: String = SigningSettings.defaultKeyPath
        @Flag(help: "Replace an existing key file.") var force = false

        func run() throws {
            let generated: SigningKeyFile.Generated
            do { generated = try SigningKeyFile.generate(at: output, force: force) } catch {
                printError("error: \(error.description)")
                throw ExitCode(1)
            }
            let registration = KeyRegistration(
                publicKey: generated.key.publicKey, crypto: LibCrypto(), from: SystemWallClock().now())
            print("wrote \(generated.path) (mode 0600, owner \(generated.owner))")
            print("key id:     \(registration.keyID)")
            print("public key: \(registration.publicKey)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a signing key's public key, its key id and a line for the backend's keys file.",
            discussion: """
                Reads the key file (--key, by default /etc/sitegate/signing.key) or the key a site config signs with \
                (--config; then the keys file line gets a comment naming the site and gateway). The line's from= is \
                when the key file was written, so that it covers every message the key signed. Register the line \
                with the backend out of band. Prints no private key material.

                Example:
                  sitegate keys show --config /etc/sitegate/site.yaml
                """)

        @Option(help: "A signing key file (default: \(SigningSettings.defaultKeyPath)).", completion: .file())
        var key: String?
        @Option(
            name: [.short, .long], help: "A site config: show the key it signs with.",
            completion: .file(extensions: ["yaml", "yml"]))
        var config: String?
        @Flag(help: "Print JSON for scripts.") var json = false

        func validate() throws {
            if key != nil && config != nil { throw ValidationError("give --key or --config, not both") }
        }

        func run() throws {
            let signer: Ed25519Key
            var path = key ?? SigningSettings.defaultKeyPath
            var owner: String?
            do throws(any Error) {
                if let config {
                    let site = try loadConfig(config)
                    owner = "\(site.site.id)/\(site.site.gateway)"
                    let keys = try SigningKeys.load(site.signing)
                    guard let current = keys.current else {
                        printError("error: \(config): " + (keys.warning ?? "messages are not signed (signing: off)"))
                        throw ExitCode(1)
                    }
                    signer = current
                    path = keys.currentPath ?? path
                } else {
                    signer = try SigningKeyFile.read(path)
                }
            } catch let error as ExitCode {
                throw error
            } catch {
                printError("error: \(error)")
                throw ExitCode(1)
            }
            // Valid from when the key was written: it may have signed messages since, before this registration.
            let from = SigningKeyFile.modificationTime(path) ?? SystemWallClock().now()
            let registration = KeyRegistration(publicKey: signer.publicKey, crypto: LibCrypto(), from: from, owner: owner)
            if json {
                print(registration.json)
                return
            }
            print("public key: \(registration.publicKey)")
            print("key id:     \(registration.keyID)")
            print("keys file line (register it with the backend):")
            print(registration.keysFileText, terminator: "")
        }
    }
}
