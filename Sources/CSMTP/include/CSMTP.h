#ifndef RELAYSUM_CSMTP_H
#define RELAYSUM_CSMTP_H

#include <stddef.h>

/// Sends one message over SMTP with libcurl: `url` is smtp://host:port; with `require_tls` the session must switch
/// to TLS with STARTTLS before AUTH and the message (PLAIN or LOGIN, whichever the server offers, when `username` is
/// not NULL); `ca_file` (or NULL for the system's) verifies the server. `message` is the whole RFC 5322 message with
/// CRLF line ends; libcurl dot-stuffs it. Returns 0 on success, else writes a one-line reason to `error` (at most
/// `error_size` bytes, NUL-terminated) and returns curl's result code (or the SMTP reply code when the server refused).
int relaysum_smtp_send(const char *url, int require_tls, const char *ca_file, const char *username,
                       const char *password, const char *mail_from, const char *rcpt_to, const char *message,
                       size_t message_length, long timeout_seconds, char *error, size_t error_size);

#endif
