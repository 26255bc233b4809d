#define _GNU_SOURCE
#include "CSQLiteConfig.h"
#include <fcntl.h>
#include <sqlite3.h>

// sqlite3_config() is variadic, which Swift cannot call: this is the whole reason for this C target.
int relaysum_sqlite_configure(void) {
    int rc = sqlite3_shutdown();
    if (rc != SQLITE_OK) return rc;
    rc = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (rc != SQLITE_OK) return rc;
    return sqlite3_initialize();
}

int relaysum_start_writeback(int fd) {
#ifdef SYNC_FILE_RANGE_WRITE
    return sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd;
    return 0;
#endif
}
