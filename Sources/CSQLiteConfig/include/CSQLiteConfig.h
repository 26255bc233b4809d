#ifndef RELAYSUM_CSQLITECONFIG_H
#define RELAYSUM_CSQLITECONFIG_H

/// Turns off SQLite's memory statistics, whose global mutex is taken on every allocation, and single-threaded
/// bookkeeping it does not need (relaysum uses each connection from one thread at a time). Must run before the
/// first connection is opened; returns SQLite's result code (0 on success).
int relaysum_sqlite_configure(void);

/// Starts writing the file's dirty pages to disk without waiting for them (Linux `sync_file_range` with
/// `SYNC_FILE_RANGE_WRITE`, which Glibc's Swift module does not declare); 0, or -1 with errno.
int relaysum_start_writeback(int fd);

#endif
