import Foundation
import Store
import Testing

@Suite struct SnapshotCodingTests {
    static let message = MessageRecord(
        rowID: 42, host: "relay1", mta: .exim, queueID: "1tAbCd-000000005vi-0000", messageID: "ü@x.example",
        origin: .local, account: "local:www-data", clientIP: nil, clientName: nil, saslMethod: nil, sender: "",
        size: Int64.max, announcedRecipients: 3, receivedAt: -5, completedAt: nil,
        recipients: [
            RecipientRecord(
                address: "a@b.example", originalAddress: "list@b.example", outcome: .deferred, dsn: "4.7.1",
                relay: "mx[192.0.2.1]:25", reply: "451 greylisted\r\n", lastAttemptAt: 1_794_182_400, attempts: 3),
            RecipientRecord(address: "c@d.example", outcome: .pending),
        ])

    @Test func roundTripsEveryField() throws {
        var w = SnapshotWriter()
        w.write(Self.message)
        w.write(["x", "", "ÿ"])
        w.write(true)
        w.write(Int64.min)
        var r = SnapshotReader(w.data)
        #expect(try r.readMessage() == Self.message)
        #expect(try r.readStrings() == ["x", "", "ÿ"])
        #expect(try r.readBool())
        #expect(try r.readInt64() == .min)
    }

    @Test func truncatedOrDamagedBytesAreRefused() throws {
        var w = SnapshotWriter()
        w.write(Self.message)
        let bytes = w.bytes
        for cut in [0, 1, 5, bytes.count / 2, bytes.count - 1] {
            var r = SnapshotReader(Data(bytes.prefix(cut)))
            #expect(throws: SnapshotReader.Malformed.self) { try r.readMessage() }
        }
        var huge = SnapshotReader(Data([0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]))  // a string "longer" than the data
        #expect(throws: SnapshotReader.Malformed.self) { try huge.readMessage() }
    }
}
