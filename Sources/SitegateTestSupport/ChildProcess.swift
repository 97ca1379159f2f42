#if canImport(Glibc)
import Glibc
#endif

/// A child process for integration tests: started with posix_spawn and a clean signal mask (a child that inherits
/// blocked signals ignores SIGTERM), output captured to files, stopped by pid.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `exitStatus` is written only by `wait`, which tests call from one task at a time.
    public let pid: pid_t
    public let arguments: [String]
    public let stdoutPath: String
    public let stderrPath: String
    private var exitStatus: Int32?

    /// Starts `arguments[0]` (looked up in PATH) with its output going to files in `directory`.
    public init(_ arguments: [String], directory: String, name: String, environment: [String: String] = [:]) throws {
        self.arguments = arguments
        stdoutPath = "\(directory)/\(name).stdout"
        stderrPath = "\(directory)/\(name).stderr"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var env = ProcessEnvironment.current
        for (k, v) in environment { env[k] = v }
        let envStrings = env.map { "\($0.key)=\($0.value)" }
        var child: pid_t = 0
        let rc = withCStrings(arguments) { argv in
            withCStrings(envStrings) { envp in
                posix_spawnp(&child, arguments[0], &actions, &attributes, argv, envp)
            }
        }
        guard rc == 0 else {
            throw TestSupportError("cannot start \(arguments[0]): \(String(cString: strerror(rc)))")
        }
        pid = child
    }

    deinit {
        if exitStatus == nil { kill(pid, SIGKILL); _ = waitpid(pid, nil, 0) }
    }

    public func signal(_ signal: Int32) {
        if exitStatus == nil { kill(pid, signal) }
    }

    /// Sends SIGTERM and waits; SIGKILL after `timeout`. Returns the exit status (128 + signal when killed).
    @discardableResult
    public func terminate(timeout: Duration = .seconds(10)) async -> Int32 {
        signal(SIGTERM)
        if let status = await wait(timeout: timeout) { return status }
        signal(SIGKILL)
        return await wait(timeout: .seconds(5)) ?? -1
    }

    /// Waits for the process to end; nil if it is still running after `timeout`.
    public func wait(timeout: Duration) async -> Int32? {
        if let exitStatus { return exitStatus }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
                exitStatus = code
                return code
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    public var isRunning: Bool {
        if exitStatus != nil { return false }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid {
            exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
            return false
        }
        return true
    }

    public var standardOutput: String { (try? readFile(stdoutPath)) ?? "" }
    public var standardError: String { (try? readFile(stderrPath)) ?? "" }

    /// Waits until standard output (or error) contains `text`; returns that output.
    public func waitForOutput(containing text: String, inStandardError: Bool = false, timeout: Duration) async throws
        -> String
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let output = inStandardError ? standardError : standardOutput
            if output.contains(text) { return output }
            if !isRunning {
                throw TestSupportError(
                    "\(arguments.joined(separator: " ")) exited before printing '\(text)'; stderr:\n\(standardError)")
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw TestSupportError("timed out waiting for '\(text)' from \(arguments[0]); stderr:\n\(standardError)")
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

enum ProcessEnvironment {
    static var current: [String: String] {
        var result: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { result[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return result
    }
}

func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for p in pointers { free(p) } }
    return body(pointers)
}

public func readFile(_ path: String) throws -> String {
    guard let f = fopen(path, "rb") else { throw TestSupportError("cannot open \(path)") }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n > 0 { bytes += chunk[0..<n] }
        if n < chunk.count { break }
    }
    return String(decoding: bytes, as: UTF8.self)
}

public func writeFile(_ path: String, _ text: String) throws {
    guard let f = fopen(path, "wb") else { throw TestSupportError("cannot write \(path)") }
    defer { fclose(f) }
    let bytes = Array(text.utf8)
    _ = fwrite(bytes, 1, bytes.count, f)
}
