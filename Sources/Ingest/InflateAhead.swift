import Foundation

/// Inflates a gzip log on a thread of its own, a block ahead of the lines being parsed.
///
/// On the reader thread, zlib (~600 MB/s) took a third of the time of a gzip log's parsing, and the reader thread
/// is the slower of the ingest's two on a Postfix log. Here it runs beside them: the inflating thread fills one block
/// while the reader copies lines out of the other. Only for regular files: a stream's lines must reach the parser as
/// they arrive, not once a block is full.
///
/// What `fill` returns is handed on in order, bytes decoded before an error first and the error after them; a block
/// of 0 bytes is the end. Deinitialising stops the inflating thread and waits for it, so `fill` is never running once
/// the owner goes on to close its file.
final class InflateAhead {
    /// Fills the buffer with content bytes, like `read(2)`: 0 at the end. Also returns the stored (compressed) bytes
    /// read so far. Called on the inflating thread only.
    typealias Fill = (UnsafeMutableRawBufferPointer) throws -> (count: Int, storedBytes: Int64)

    /// A filled block, handed from the inflating thread to the reader.
    private struct Block {
        let buffer: UnsafeMutableRawBufferPointer
        var count: Int
        var storedBytes: Int64
        var error: (any Error)?
    }

    /// The state both threads touch, under `condition`; held by the inflating thread too, so it outlives the handle.
    private final class Channel: @unchecked Sendable {
        let condition = NSCondition()
        var free: [UnsafeMutableRawBufferPointer]
        var filled: [Block] = []
        var stopped = false
        var finished = false
        var buffers: [UnsafeMutableRawBufferPointer]

        init(blockSize: Int, blocks: Int) {
            buffers = (0..<blocks).map { _ in .allocate(byteCount: blockSize, alignment: 16) }
            free = buffers
        }

        deinit {
            for b in buffers { b.deallocate() }
        }

        /// The inflating thread's loop: fill a free block until it is full or the content ends, hand it on, repeat.
        func run(_ fill: Fill) {
            defer {
                condition.lock()
                finished = true
                condition.broadcast()
                condition.unlock()
            }
            while true {
                condition.lock()
                while free.isEmpty && !stopped { condition.wait() }
                if stopped {
                    condition.unlock()
                    return
                }
                let buffer = free.removeLast()
                condition.unlock()

                var block = Block(buffer: buffer, count: 0, storedBytes: 0, error: nil)
                do {
                    while block.count < buffer.count {
                        let (n, stored) = try fill(UnsafeMutableRawBufferPointer(rebasing: buffer[block.count...]))
                        block.storedBytes = stored
                        if n == 0 { break }
                        block.count += n
                    }
                } catch {
                    block.error = error
                }
                let last = block.count < buffer.count
                condition.lock()
                filled.append(block)
                condition.broadcast()
                condition.unlock()
                // A block not filled whole is the end, or the bytes before an error: nothing follows it.
                if last { return }
            }
        }

        /// The next filled block, waiting for it.
        func next() -> Block {
            condition.lock()
            defer { condition.unlock() }
            while filled.isEmpty { condition.wait() }
            return filled.removeFirst()
        }

        func recycle(_ buffer: UnsafeMutableRawBufferPointer) {
            condition.lock()
            free.append(buffer)
            condition.broadcast()
            condition.unlock()
        }

        func stop() {
            condition.lock()
            stopped = true
            condition.broadcast()
            while !finished { condition.wait() }
            condition.unlock()
        }

        /// Once the last block is read: waits for the thread, which has handed it on and returns, and frees the blocks.
        func release() {
            stop()
            condition.lock()
            defer { condition.unlock() }
            for b in buffers { b.deallocate() }
            buffers = []
            free = []
        }

        var holdsBlocks: Bool {
            condition.lock()
            defer { condition.unlock() }
            return !buffers.isEmpty
        }
    }

    /// Hands `fill` to the inflating thread, which alone calls it from then on.
    private final class FillBox: @unchecked Sendable {
        let fill: Fill
        init(_ fill: @escaping Fill) { self.fill = fill }
    }

    private let channel: Channel
    /// The block being read, and how far.
    private var current: Block?
    private var position = 0
    /// Set once the last block has been read: later reads return 0, or throw its error.
    private var ended = false
    private var error: (any Error)?
    /// Stored bytes read by the inflating thread once the block being read was filled.
    private(set) var storedBytesRead: Int64

    /// Whether the blocks are still allocated (freed once the last is read).
    var holdsBlocks: Bool { channel.holdsBlocks }

    /// Starts the inflating thread. `storedBytesRead`: the stored bytes read before it starts.
    init(blockSize: Int = 1 << 20, blocks: Int = 2, storedBytesRead: Int64, fill: @escaping Fill) {
        precondition(blockSize > 0 && blocks > 0)
        self.storedBytesRead = storedBytesRead
        let channel = Channel(blockSize: blockSize, blocks: blocks)
        self.channel = channel
        let box = FillBox(fill)
        let thread = Thread { channel.run(box.fill) }
        thread.name = "relaysum.inflate"
        thread.start()
    }

    deinit {
        channel.stop()
    }

    /// Copies the next content bytes into `buffer`: how many, 0 at the end; an error after the bytes before it.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            if let block = current, position < block.count {
                let n = min(buffer.count, block.count - position)
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: block.buffer[position..<position + n]))
                position += n
                return n
            }
            if let block = current {
                current = nil
                channel.recycle(block.buffer)
                if block.count < block.buffer.count {
                    ended = true
                    error = block.error
                    // The source is kept until the run ends: its blocks are not.
                    channel.release()
                }
            }
            if ended {
                // Thrown again by every later call, as `GzipInflater` does.
                if let error { throw error }
                return 0
            }
            let block = channel.next()
            storedBytesRead = block.storedBytes
            current = block
            position = 0
        }
    }
}
