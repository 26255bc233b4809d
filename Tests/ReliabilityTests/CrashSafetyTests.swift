import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// An ingest killed anywhere (SIGKILL), stopped by a full disk or refused a read-only database leaves the database as
/// it was after its last whole batch; the next run ends with exactly what one clean run stores.
@Suite struct CrashSafetyTests {
    /// Small transactions, so kill points fall between many commits, with open messages crossing them.
    static let ingestArguments = ["ingest", "--timezone", "UTC", "--year", "2026", "--batch-lines", "20", "--quiet"]

    static func ingest(
        _ db: String, _ extra: [String] = [], files: [String] = Relaysum.sample
    ) throws
        -> Relaysum.Result
    {
        try Relaysum.run(ingestArguments + ["--db", db] + extra + files)
    }

    /// What one uninterrupted ingest of the sample stores, and how many lines it read.
    static let cleanRun: (snapshot: [String: [String]], lines: Int) = {
        let t = try! Scratch()
        let r = try! ingest(t.path("clean.sqlite"))
        precondition(r.status == 0, "\(r)")
        return (try! Relaysum.snapshot(t.path("clean.sqlite")), try! Relaysum.inspect(t.path("clean.sqlite")).lines)
    }()
    static var clean: [String: [String]] { cleanRun.snapshot }

    static func expectClean(
        _ db: String, _ comment: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(Self.clean["export messages"]!.count > 400)
        expectSameSnapshot(try Relaysum.snapshot(db), Self.clean, comment, sourceLocation: sourceLocation)
    }

    /// Chains of runs each killed after a random number of lines (the store thread is wherever it is then), then
    /// resumed: at least 50 distinct kill points over the two MTAs' rotated files. After every kill the database is
    /// whole and holds no line past the kill point; at the end of each chain it equals one clean run.
    @Test func killedAtRandomLinesThenResumedEqualsOneCleanRun() throws {
        var rng = SeededGenerator.fromEnvironment("kill points")
        let total = Self.cleanRun.lines
        #expect(total > 7_000)
        var points = Set<Int>()
        var totalKills = 0
        var chains = 0
        // Chains until there are 60 distinct kill points (about five; at most 20).
        while points.count < 60 && chains < 20 {
            let chain = chains
            chains += 1
            let t = try Scratch()
            let db = t.path("r.sqlite")
            var kills: [Int] = []
            while true {
                let before = try Relaysum.inspect(db)
                let n = Int.random(in: 1...1_200, using: &rng)
                let r = try Self.ingest(db, ["--fault-at-line", "\(n)"])
                if r.signal == SIGKILL {
                    let after = try Relaysum.inspect(db)
                    #expect(after.integrity == "ok")
                    // Nothing past the kill point is committed, and nothing committed is lost.
                    #expect(after.lines >= before.lines && after.lines <= before.lines + n)
                    points.insert(before.lines + n)
                    kills.append(before.lines + n)
                    totalKills += 1
                    continue
                }
                #expect(r.status == 0, "\(r)")
                break
            }
            #expect(try Relaysum.inspect(db).lines == total)
            try Self.expectClean(db, "chain \(chain) killed at lines \(kills)")
        }
        print("kill points: \(points.count) distinct, \(totalKills) kills in \(chains) chains")
        #expect(points.count >= 50, "distinct kill points: \(points.sorted())")
    }

    /// The same with almost every open message's recipients kept only in the database between its lines
    /// (`--resident-recipients 3`): kills fall between spills and read-backs, and the resumed runs equal one clean run
    /// that kept all in memory.
    @Test func killedWhileMessagesAreSpilledThenResumedEqualsOneCleanRun() throws {
        var rng = SeededGenerator.fromEnvironment("spill kill points")
        let total = Self.cleanRun.lines
        var kills = 0
        for chain in 0..<3 {
            let t = try Scratch()
            let db = t.path("r.sqlite")
            var points: [Int] = []
            while true {
                let n = Int.random(in: 1...2_500, using: &rng)
                let r = try Self.ingest(db, ["--resident-recipients", "3", "--fault-at-line", "\(n)"])
                if r.signal == SIGKILL {
                    #expect(try Relaysum.inspect(db).integrity == "ok")
                    points.append(n)
                    kills += 1
                    continue
                }
                #expect(r.status == 0, "\(r)")
                break
            }
            #expect(try Relaysum.inspect(db).lines == total)
            try Self.expectClean(db, "chain \(chain), spilling, killed after lines \(points)")
        }
        #expect(kills >= 5)
    }

    /// Several batches per transaction (`--batches-per-commit`): a killed run keeps only its commits, each a whole
    /// number of commit intervals (20 lines a batch, 10 batches a commit), never the batches written after the last
    /// one; the run after reads those lines again and the result equals one clean run.
    @Test func aKilledRunKeepsOnlyItsCommits() throws {
        let t = try Scratch()
        let db = t.path("r.sqlite")
        let file = [Relaysum.sample[0]]
        let clean = t.path("clean.sqlite")
        #expect(try Self.ingest(clean, files: file).status == 0)
        // Killed after 150 lines: 7 batches written, none committed.
        var r = try Self.ingest(db, ["--batches-per-commit", "10", "--fault-at-line", "150"], files: file)
        #expect(r.signal == SIGKILL)
        #expect(try Relaysum.inspect(db) == (0, "ok"))
        // Killed after 450 lines: commits at 200 and 400 lines (the second perhaps still being written).
        r = try Self.ingest(db, ["--batches-per-commit", "10", "--fault-at-line", "450"], files: file)
        #expect(r.signal == SIGKILL)
        let after = try Relaysum.inspect(db)
        #expect(after.integrity == "ok")
        #expect([200, 400].contains(after.lines), "\(after.lines) lines committed")
        r = try Self.ingest(db, ["--batches-per-commit", "10"], files: file)
        #expect(r.status == 0, "\(r)")
        #expect(try Relaysum.inspect(db).lines == Relaysum.inspect(clean).lines)
        expectSameSnapshot(try Relaysum.snapshot(db), try Relaysum.snapshot(clean), "killed before and between commits")
    }

    /// A message still open after a finished run, changed early in a run that is killed later, and not touched by
    /// the run that resumes: the killed run saved its state but not its row (open messages' rows are written at a
    /// run's end), so the resuming run must write it. The result equals one clean run.
    @Test(arguments: ["postfix", "exim"])
    func anOpenMessageChangedByAKilledRunIsWrittenByTheRunAfter(mta: String) throws {
        let t = try Scratch()
        let first: [String]
        var second: [String]
        if mta == "postfix" {
            let q = "4NmB1q0Bt7z9vKp"
            first = [
                "Nov  9 00:01:00 relay1 postfix/smtpd[10]: \(q): client=unknown[192.0.2.10], sasl_method=PLAIN, "
                    + "sasl_username=alice",
                "Nov  9 00:01:00 relay1 postfix/cleanup[11]: \(q): message-id=<m1@shop.example>",
                "Nov  9 00:01:01 relay1 postfix/qmgr[12]: \(q): from=<alice@shop.example>, size=1000, nrcpt=2 "
                    + "(queue active)",
                "Nov  9 00:01:02 relay1 postfix/smtp[13]: \(q): to=<a@far.example>, relay=mx.far.example"
                    + "[198.51.100.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 ok)",
                "Nov  9 00:01:03 relay1 postfix/smtp[13]: \(q): to=<b@slow.example>, relay=mx.slow.example"
                    + "[198.51.100.2]:25, delay=2, delays=0/0/0/2, dsn=4.2.0, status=deferred (451 4.2.0 try later)",
            ]
            second = [
                "Nov  9 00:31:03 relay1 postfix/smtp[14]: \(q): to=<b@slow.example>, relay=mx.slow.example"
                    + "[198.51.100.2]:25, delay=1802, delays=1800/0/0/2, dsn=4.7.1, status=deferred "
                    + "(450 4.7.1 greylisted again)"
            ]
            second += (1...8).map {
                "Nov  9 00:32:0\($0) relay1 postfix/smtpd[20]: connect from unknown[192.0.2.\($0)]"
            }
        } else {
            let id = "1vHcQa-000000001Ab-0001"
            first = [
                "2026-11-09 00:01:00 \(id) <= alice@shop.example H=(laptop) [192.0.2.10]:50312 P=esmtpsa "
                    + "A=dovecot_plain:alice S=1000 id=m1@shop.example",
                "2026-11-09 00:01:02 \(id) => a@far.example R=dnslookup T=remote_smtp H=mx.far.example "
                    + "[198.51.100.1] C=\"250 2.0.0 ok\"",
                "2026-11-09 00:01:03 \(id) == b@slow.example R=dnslookup T=remote_smtp defer (-44) H=mx.slow.example "
                    + "[198.51.100.2]: SMTP error from remote mail server after RCPT TO:<b@slow.example>: "
                    + "451 4.2.0 try later",
            ]
            second = [
                "2026-11-09 00:31:03 \(id) == b@slow.example R=dnslookup T=remote_smtp defer (-44) H=mx.slow.example "
                    + "[198.51.100.2]: SMTP error from remote mail server after RCPT TO:<b@slow.example>: "
                    + "450 4.7.1 greylisted again"
            ]
            second += (1...8).map {
                "2026-11-09 00:32:0\($0) SMTP connection from [192.0.2.\($0)]:4000\($0) (TCP/IP connection count = 1)"
            }
        }
        let log = mta == "postfix" ? "mail.log" : "mainlog"
        let args = ["ingest", "--timezone", "UTC", "--year", "2026", "--batch-lines", "2", "--quiet"]
        try t.write(log, first[...])
        let db = t.path("r.sqlite")
        #expect(try Relaysum.run(args + ["--db", db, t.path(log)]).status == 0)
        try t.append(log, second[...])
        // Batches of 2 lines, one queued at a time: when line 7 comes, the batch with the deferral is committed.
        let killed = try Relaysum.run(args + ["--db", db, "--fault-at-line", "7", t.path(log)])
        #expect(killed.signal == SIGKILL, "\(killed)")
        #expect(try Relaysum.run(args + ["--db", db, t.path(log)]).status == 0)
        let clean = t.path("clean.sqlite")
        #expect(try Relaysum.run(args + ["--db", clean, t.path(log)]).status == 0)
        let got = try Relaysum.snapshot(db)
        #expect(got["export recipients"]?.contains { $0.contains("greylisted again") } == true, "\(got)")
        #expect(got == (try Relaysum.snapshot(clean)))
    }

    /// Kills from outside after a random delay: they also land while the database is created and migrated, while
    /// open messages are restored, and in the last commit.
    @Test func killedFromOutsideAtRandomTimesThenResumedEqualsOneCleanRun() throws {
        var rng = SeededGenerator.fromEnvironment("kill delays")
        let t = try Scratch()
        let db = t.path("r.sqlite")
        var kills = 0
        for _ in 0..<12 {
            let child = try Relaysum.Child(Self.ingestArguments + ["--db", db] + Relaysum.sample, pipeStderr: false)
            usleep(UInt32.random(in: 0...250_000, using: &rng))
            kill(child.pid, SIGKILL)
            let r = try child.wait()
            if r.signal == SIGKILL { kills += 1 }
            #expect(try Relaysum.inspect(db).integrity == "ok")
        }
        let last = try Self.ingest(db)
        #expect(last.status == 0, "\(last)")
        print("kills from outside: \(kills) of 12 landed before the run ended")
        try Self.expectClean(db, "after \(kills) kills from outside")
    }

    static let prlimit = ["/usr/bin/prlimit", "/bin/prlimit"].first(where: Relaysum.isExecutable)

    /// A file-size limit (`prlimit --fsize`, as `ulimit -f`) makes writes fail as on a full disk, at several points
    /// of the run: a clear error and exit 1, the database whole, and a clean resume once the limit is gone.
    @Test(
        .enabled(if: prlimit != nil, "prlimit (util-linux) is not installed"),
        arguments: [1_000, 60_000, 120_000, 250_000, 500_000])
    func aFullDiskFailsClearlyAndResumesCleanly(limitBytes: Int) throws {
        let t = try Scratch()
        let db = t.path("r.sqlite")
        let r = try Relaysum.run(
            ["--fsize=\(limitBytes):\(limitBytes)", Relaysum.binary] + Self.ingestArguments + ["--db", db]
                + Relaysum.sample,
            executable: Self.prlimit!)
        #expect(r.signal == nil && r.status == 1, "\(r)")
        #expect(r.stdout == "")
        #expect(r.stderr.contains("\(db): disk I/O error (a write failed: is the disk full"), "\(r.stderr)")
        #expect(try Relaysum.inspect(db).integrity == "ok")
        let resumed = try Self.ingest(db)
        #expect(resumed.status == 0, "\(resumed)")
        try Self.expectClean(db, "file size limit \(limitBytes)")
    }

    /// A real full disk: a tmpfs mounted in a private mount namespace (root only; skipped elsewhere). Through the
    /// write-ahead log (`--no-bulk-load`, 600 KiB): the new database and its WAL take about 450 KiB (8 KiB pages), so
    /// some batches are committed before the disk fills. As a bulk load (656 KiB, just more than leaving the WAL that
    /// made the schema needs): every line is stored (a 600 KiB database) and the disk fills at the end, when the
    /// database goes back to WAL mode. The database is copied out after the failed run and resumed on the ordinary
    /// disk.
    @Test(arguments: [("600k", ["--no-bulk-load"]), ("656k", [])])
    func aFullTmpfsFailsClearlyAndResumesCleanly(size: String, extra: [String]) throws {
        guard geteuid() == 0, Relaysum.isExecutable("/usr/bin/unshare") else {
            print("skipped: a tmpfs needs root and unshare")
            return
        }
        let t = try Scratch()
        let mount = t.path("mnt")
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let inner = (Self.ingestArguments + extra + ["--db", "\(mount)/r.sqlite"] + Relaysum.sample).map { "'\($0)'" }
        let script = """
            mount -t tmpfs -o size=\(size) tmpfs '\(mount)' || exit 99
            '\(Relaysum.binary)' \(inner.joined(separator: " "))
            rc=$?
            cp -p '\(mount)'/r.sqlite* '\(t.url.path)'/
            exit $rc
            """
        let r = try Relaysum.run(["--mount", "/bin/sh", "-c", script], executable: "/usr/bin/unshare")
        guard r.status != 99 else {
            print("skipped: cannot mount a tmpfs here (\(r.stderr))")
            return
        }
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.contains("r.sqlite: database or disk is full"), "\(r.stderr)")
        let db = t.path("r.sqlite")
        #expect(try Relaysum.inspect(db).integrity == "ok")
        #expect(try Relaysum.inspect(db).lines > 0)
        let resumed = try Self.ingest(db)
        #expect(resumed.status == 0, "\(resumed)")
        try Self.expectClean(db, "after a full tmpfs")
    }

    /// A database that cannot be written (a read-only mount as root, else mode 0444): a clear error, exit 1, nothing
    /// changed, reports still read it; once writable again the run resumes.
    @Test func aReadOnlyDatabaseFailsClearlyAndResumesCleanly() throws {
        let t = try Scratch()
        let db = t.path("r.sqlite")
        let killed = try Self.ingest(db, ["--fault-at-line", "2500"])
        #expect(killed.signal == SIGKILL)
        // Settle the WAL into the main file, as a read-only reader needs it.
        #expect(try Relaysum.run(["summary", "--db", db]).status == 0)
        let before = try Relaysum.snapshot(db)
        let r: Relaysum.Result
        if geteuid() == 0 {
            guard Relaysum.isExecutable("/usr/bin/unshare") else {
                print("skipped: as root, a read-only database needs unshare for a read-only bind mount")
                return
            }
            let inner = (Self.ingestArguments + ["--db", db] + Relaysum.sample).map { "'\($0)'" }
            let dir = t.url.path
            r = try Relaysum.run(
                [
                    "--mount", "/bin/sh", "-c",
                    "mount --bind '\(dir)' '\(dir)' && mount -o remount,bind,ro '\(dir)' || exit 99; exec '\(Relaysum.binary)' \(inner.joined(separator: " "))",
                ], executable: "/usr/bin/unshare")
            guard r.status != 99 else {
                print("skipped: cannot bind-mount here (\(r.stderr))")
                return
            }
            #expect(r.stderr.contains("cannot open database \(db): Read-only file system"), "\(r)")
        } else {
            #expect(chmod(db, 0o444) == 0)
            r = try Self.ingest(db)
            #expect(r.stderr.contains("cannot open database \(db): Permission denied"), "\(r)")
            #expect(chmod(db, 0o600) == 0)
        }
        #expect(r.status == 1 && r.signal == nil, "\(r)")
        #expect(r.stdout == "")
        #expect(try Relaysum.snapshot(db) == before)
        let resumed = try Self.ingest(db)
        #expect(resumed.status == 0, "\(resumed)")
        try Self.expectClean(db, "after a read-only run")
    }
}
