#ifndef RELAYSUM_CALLOCATOR_H
#define RELAYSUM_CALLOCATOR_H

/// Fixes glibc's mmap threshold at `bytes` (mallopt M_MMAP_THRESHOLD, which also stops glibc from raising it as
/// large blocks are freed). Returns 1 on success; 0 where the C library is not glibc.
int relaysum_fix_mmap_threshold(int bytes);

#endif
