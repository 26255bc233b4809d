#ifndef RELAYSUM_CSPAWN_H
#define RELAYSUM_CSPAWN_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` in a new process group, its standard input, output and error on
/// `in`, `out` and `err`, every other descriptor closed, signal mask empty and SIGPIPE at its default.
/// Returns 0 and sets `*pid`, or an errno value.
int relaysum_spawn(const char *path, char *const argv[], char *const envp[], int in, int out, int err, pid_t *pid);

/// A pipe whose both ends are close-on-exec (pipe2, which Glibc's Swift module does not show). 0 or an errno value.
int relaysum_pipe(int fds[2]);

#endif
