import Dispatch
import Foundation
import Store

/// Writes batches on a thread of their own, in submission order, while the caller parses the next lines.
///
/// At most `depth` batches wait; a failed write stops all later ones and is rethrown to the caller at its next
/// submission or at `finish()`, so the database stays as it was after the last whole batch.
final class BatchPipeline: @unchecked Sendable {
    private let store: RelayStore
    private let queue = DispatchQueue(label: "relaysum.store-writer")
    private let slots: DispatchSemaphore
    private let lock = NSLock()
    private var failure: Error?
    /// Written batches handed back to be freed by the submitting thread: releasing a batch's strings costs as much as
    /// a tenth of writing it, so it is done by whichever thread would otherwise wait. (Its open states and open
    /// messages' recipients are released by the writer as it writes them, so that they stop sharing the correlators'
    /// open messages; what is left is mostly its finished messages.)
    private var written: [WriteBatch] = []
    /// The submitting thread waits for the writer (its next batch is ready).
    private var submitterWaits = false

    /// `depth` 1: the store writes one batch while the caller reads the next, which pipelines the two threads as well
    /// as 2 did (measured) and keeps one batch less in memory (8 MiB of peak RSS on the Exim benchmark).
    init(store: RelayStore, depth: Int = 1) {
        self.store = store
        self.slots = DispatchSemaphore(value: depth)
    }

    /// Holds a queued batch until the writer takes it, so the writer's copy is the only one and can be released as it
    /// is written (`RelayStore.write(releasing:)`).
    private final class Queued: @unchecked Sendable {
        private var batch: WriteBatch?

        init(_ batch: consuming WriteBatch) {
            self.batch = batch
        }

        func take() -> WriteBatch {
            defer { batch = nil }
            return batch!
        }
    }

    /// Queues `batch`; throws the error of an earlier batch, if one failed.
    func submit(_ batch: consuming WriteBatch) throws {
        try check()
        lock.withLock { submitterWaits = true }
        slots.wait()
        let done = lock.withLock {
            submitterWaits = false
            defer { written.removeAll() }
            return written
        }
        let queued = Queued(batch)
        queue.async { [self] in
            defer { slots.signal() }
            var batch = queued.take()
            guard lock.withLock({ failure == nil }) else { return }
            do {
                try store.write(releasing: &batch)
            } catch {
                lock.withLock { failure = error }
            }
            // The submitter is waiting: it frees the batch once it has queued its next one. Otherwise the batch is
            // freed on this thread, which has nothing to write until the next batch comes.
            lock.withLock {
                if submitterWaits { written.append(batch) }
            }
        }
        withExtendedLifetime(done) {}  // freed here, after the next batch is queued
    }

    /// Waits for every queued batch; throws the first write error.
    func finish() throws {
        queue.sync {}
        try check()
    }

    private func check() throws {
        if let error = lock.withLock({ failure }) { throw error }
    }
}
