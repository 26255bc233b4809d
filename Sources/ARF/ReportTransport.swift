import CSMTP
import Config
import Foundation

/// How a built report leaves the machine.
package protocol ReportTransport {
    /// Delivers one message (CRLF line ends) from `from` to `to`; throws `DeliveryError` when it was not accepted.
    func deliver(_ message: [UInt8], from: String, to: String) throws
}

/// Why a report was not delivered, in words for the operator and the database.
package struct DeliveryError: Error, CustomStringConvertible {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }
}

extension RelaysumConfiguration.Transport {
    /// The transport these settings describe (reading the SMTP password file now).
    package func makeTransport() throws -> any ReportTransport {
        switch kind {
        case .sendmail:
            return SendmailTransport(path: sendmailPath)
        case .smtp:
            var password: String? = nil
            if let file = passwordFile {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw DeliveryError("cannot read the SMTP password file \(file)")
                }
                password =
                    String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init)
                    ?? ""
            }
            return SMTPTransport(
                host: host ?? "localhost", port: port, starttls: starttls, username: username, password: password,
                caFile: caFile, timeoutSeconds: timeoutSeconds)
        }
    }
}

/// `sendmail -t -oi`: the program is run directly with an argument vector (no shell), reads the recipients from
/// the `To:` field, and gets the message on standard input with local (LF) line ends.
package struct SendmailTransport: ReportTransport {
    package var path: String

    package init(path: String) {
        self.path = path
    }

    package func deliver(_ message: [UInt8], from: String, to: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-t", "-oi"]
        let input = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        // Waited for through the termination handler, set before the start so a fast exit cannot be missed:
        // `waitUntilExit` polls a run loop, which can wait forever when called off the main thread.
        let ended = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in ended.signal() }
        do {
            try process.run()
        } catch {
            throw DeliveryError("cannot run \(path): \(error.localizedDescription)")
        }
        var lf: [UInt8] = []
        lf.reserveCapacity(message.count)
        for (i, b) in message.enumerated() where !(b == 0x0D && i + 1 < message.count && message[i + 1] == 0x0A) {
            lf.append(b)
        }
        // A program that exits without reading makes the write fail (EPIPE): its exit status says why.
        signal(SIGPIPE, SIG_IGN)
        try? input.fileHandleForWriting.write(contentsOf: lf)
        try? input.fileHandleForWriting.close()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        ended.wait()
        guard process.terminationReason == .exit && process.terminationStatus == 0 else {
            let first = String(decoding: stderr, as: UTF8.self).split(whereSeparator: \.isNewline).first ?? ""
            let status =
                process.terminationReason == .exit
                ? "exit status \(process.terminationStatus)" : "signal \(process.terminationStatus)"
            throw DeliveryError("\(path) failed (\(status))\(first.isEmpty ? "" : ": \(first.prefix(200))")")
        }
    }
}

/// SMTP to a smarthost through libcurl: STARTTLS (required unless switched off), AUTH PLAIN or LOGIN, one session
/// per message.
package struct SMTPTransport: ReportTransport {
    package var host: String
    package var port: Int
    package var starttls: Bool
    package var username: String?
    package var password: String?
    package var caFile: String?
    package var timeoutSeconds: Int

    package init(
        host: String, port: Int, starttls: Bool, username: String?, password: String?, caFile: String?,
        timeoutSeconds: Int
    ) {
        self.host = host
        self.port = port
        self.starttls = starttls
        self.username = username
        self.password = password
        self.caFile = caFile
        self.timeoutSeconds = timeoutSeconds
    }

    package func deliver(_ message: [UInt8], from: String, to: String) throws {
        let url = "smtp://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        let errorSize = 512
        var error = [CChar](repeating: 0, count: errorSize)
        let rc = message.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                relaysum_smtp_send(
                    url, starttls ? 1 : 0, caFile, username, password, from, to, chars.baseAddress, chars.count,
                    Int(timeoutSeconds), &error, errorSize)
            }
        }
        if rc != 0 {
            let text = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw DeliveryError("\(host):\(port): \(text)")
        }
    }
}
