#ifndef RELAYSUM_CSQLITECONFIG_H
#define RELAYSUM_CSQLITECONFIG_H

/// Turns off SQLite's memory statistics, whose global mutex is taken on every allocation, and single-threaded
/// bookkeeping it does not need (relaysum uses each connection from one thread at a time). Must run before the
/// first connection is opened; returns SQLite's result code (0 on success).
int relaysum_sqlite_configure(void);

#endif
