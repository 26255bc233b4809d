#include "CSMTP.h"
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

// curl_easy_setopt() is variadic, which Swift cannot call: this file makes the whole SMTP exchange in C.

struct upload {
    const char *data;
    size_t length;
    size_t offset;
};

static size_t read_message(char *buffer, size_t size, size_t count, void *context) {
    struct upload *u = context;
    size_t room = size * count;
    size_t left = u->length - u->offset;
    size_t n = left < room ? left : room;
    memcpy(buffer, u->data + u->offset, n);
    u->offset += n;
    return n;
}

// Keeps the server's last reply line, so a refusal is reported in the server's own words ("451 4.3.0 ...").
struct reply {
    char line[256];
};

static int keep_reply(CURL *handle, curl_infotype type, char *data, size_t size, void *context) {
    (void)handle;
    if (type != CURLINFO_HEADER_IN) return 0;
    struct reply *r = context;
    size_t n = size < sizeof r->line - 1 ? size : sizeof r->line - 1;
    while (n > 0 && (data[n - 1] == '\r' || data[n - 1] == '\n')) n--;
    for (size_t i = 0; i < n; i++) r->line[i] = (data[i] >= 0x20 && data[i] < 0x7f) ? data[i] : '?';
    r->line[n] = 0;
    return 0;
}

static void init_once(void) {
    static int done = 0;
    if (!done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        done = 1;
    }
}

int relaysum_smtp_send(const char *url, int require_tls, const char *ca_file, const char *username,
                       const char *password, const char *mail_from, const char *rcpt_to, const char *message,
                       size_t message_length, long timeout_seconds, char *error, size_t error_size) {
    init_once();
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        snprintf(error, error_size, "cannot start libcurl");
        return -1;
    }
    char curl_error[CURL_ERROR_SIZE] = "";
    struct upload u = {message, message_length, 0};
    struct reply last = {""};
    struct curl_slist *recipients = curl_slist_append(NULL, rcpt_to);
    char from[1024];
    snprintf(from, sizeof from, "<%s>", mail_from);

    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
    curl_easy_setopt(curl, CURLOPT_USE_SSL, require_tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
    if (ca_file != NULL) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
    if (username != NULL) {
        curl_easy_setopt(curl, CURLOPT_USERNAME, username);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, password != NULL ? password : "");
    }
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_message);
    curl_easy_setopt(curl, CURLOPT_READDATA, &u);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)message_length);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, keep_reply);
    curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &last);
    curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);

    CURLcode rc = curl_easy_perform(curl);
    int result = 0;
    if (rc != CURLE_OK) {
        long reply = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
        if (reply >= 400) {
            snprintf(error, error_size, "server replied %s", last.line[0] ? last.line : curl_error);
            result = (int)reply;
        } else {
            snprintf(error, error_size, "%s", curl_error[0] ? curl_error : curl_easy_strerror(rc));
            result = (int)rc;
        }
    }
    curl_slist_free_all(recipients);
    curl_easy_cleanup(curl);
    return result;
}
