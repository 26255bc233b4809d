#include "CSMTP.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

// curl_easy_setopt() is variadic, which Swift cannot call: this file makes the whole SMTP exchange in C.
//
// libcurl is loaded when the first report is mailed, not linked: the build needs no libcurl headers (a fresh Debian
// machine has none), and the runtime library is on nearly every machine (git needs libcurl-gnutls). The few types
// and numbers used are libcurl's stable ABI (curl/curl.h, curl 7.x and 8.x).
typedef void CURL;
typedef int CURLcode;
typedef int64_t curl_off_t;
typedef int curl_infotype;
struct curl_slist;
enum {
    CURLE_OK = 0,
    CURL_ERROR_SIZE = 256,
    CURL_GLOBAL_DEFAULT = 3,
    CURLINFO_HEADER_IN = 1,
    CURLUSESSL_NONE = 0,
    CURLUSESSL_ALL = 3,
};
// CURLOPTTYPE_LONG 0, OBJECTPOINT 10000, FUNCTIONPOINT 20000, OFF_T 30000.
enum {
    CURLOPT_VERBOSE = 41,
    CURLOPT_UPLOAD = 46,
    CURLOPT_TIMEOUT = 13,
    CURLOPT_CONNECTTIMEOUT = 78,
    CURLOPT_NOSIGNAL = 99,
    CURLOPT_USE_SSL = 119,
    CURLOPT_URL = 10002,
    CURLOPT_READDATA = 10009,
    CURLOPT_ERRORBUFFER = 10010,
    CURLOPT_CAINFO = 10065,
    CURLOPT_DEBUGDATA = 10095,
    CURLOPT_MAIL_FROM = 10186,
    CURLOPT_MAIL_RCPT = 10187,
    CURLOPT_USERNAME = 10173,
    CURLOPT_PASSWORD = 10174,
    CURLOPT_READFUNCTION = 20012,
    CURLOPT_DEBUGFUNCTION = 20094,
    CURLOPT_INFILESIZE_LARGE = 30115,
};
#define CURLINFO_RESPONSE_CODE 0x200002  // CURLINFO_LONG + 2

static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, int, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, int, ...);
    const char *(*easy_strerror)(CURLcode);
    void (*easy_cleanup)(CURL *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} curl;
static int curl_loaded = 0;

static void load_curl(void) {
    const char *names[] = {"libcurl.so.4", "libcurl-gnutls.so.4", "libcurl-nss.so.4", "libcurl.so"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (lib == NULL) continue;
        *(void **)&curl.global_init = dlsym(lib, "curl_global_init");
        *(void **)&curl.easy_init = dlsym(lib, "curl_easy_init");
        *(void **)&curl.easy_setopt = dlsym(lib, "curl_easy_setopt");
        *(void **)&curl.easy_perform = dlsym(lib, "curl_easy_perform");
        *(void **)&curl.easy_getinfo = dlsym(lib, "curl_easy_getinfo");
        *(void **)&curl.easy_strerror = dlsym(lib, "curl_easy_strerror");
        *(void **)&curl.easy_cleanup = dlsym(lib, "curl_easy_cleanup");
        *(void **)&curl.slist_append = dlsym(lib, "curl_slist_append");
        *(void **)&curl.slist_free_all = dlsym(lib, "curl_slist_free_all");
        if (curl.global_init && curl.easy_init && curl.easy_setopt && curl.easy_perform && curl.easy_getinfo &&
            curl.easy_strerror && curl.easy_cleanup && curl.slist_append && curl.slist_free_all) {
            curl.global_init(CURL_GLOBAL_DEFAULT);
            curl_loaded = 1;
            return;
        }
        dlclose(lib);
    }
}

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

static int keep_reply(CURL *h, curl_infotype type, char *data, size_t size, void *context) {
    (void)h;
    if (type != CURLINFO_HEADER_IN) return 0;
    struct reply *r = context;
    size_t n = size < sizeof r->line - 1 ? size : sizeof r->line - 1;
    while (n > 0 && (data[n - 1] == '\r' || data[n - 1] == '\n')) n--;
    for (size_t i = 0; i < n; i++) r->line[i] = (data[i] >= 0x20 && data[i] < 0x7f) ? data[i] : '?';
    r->line[n] = 0;
    return 0;
}

int relaysum_smtp_send(const char *url, int require_tls, const char *ca_file, const char *username,
                       const char *password, const char *mail_from, const char *rcpt_to, const char *message,
                       size_t message_length, long timeout_seconds, char *error, size_t error_size) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load_curl);
    if (!curl_loaded) {
        snprintf(error, error_size, "SMTP needs libcurl, which is not installed (apt-get install libcurl4)");
        return -1;
    }
    CURL *handle = curl.easy_init();
    if (handle == NULL) {
        snprintf(error, error_size, "cannot start libcurl");
        return -1;
    }
    char curl_error[CURL_ERROR_SIZE] = "";
    struct upload u = {message, message_length, 0};
    struct reply last = {""};
    struct curl_slist *recipients = curl.slist_append(NULL, rcpt_to);
    char from[1024];
    snprintf(from, sizeof from, "<%s>", mail_from);

    curl.easy_setopt(handle, CURLOPT_URL, url);
    curl.easy_setopt(handle, CURLOPT_ERRORBUFFER, curl_error);
    curl.easy_setopt(handle, CURLOPT_USE_SSL, require_tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
    if (ca_file != NULL) curl.easy_setopt(handle, CURLOPT_CAINFO, ca_file);
    if (username != NULL) {
        curl.easy_setopt(handle, CURLOPT_USERNAME, username);
        curl.easy_setopt(handle, CURLOPT_PASSWORD, password != NULL ? password : "");
    }
    curl.easy_setopt(handle, CURLOPT_MAIL_FROM, from);
    curl.easy_setopt(handle, CURLOPT_MAIL_RCPT, recipients);
    curl.easy_setopt(handle, CURLOPT_READFUNCTION, read_message);
    curl.easy_setopt(handle, CURLOPT_READDATA, &u);
    curl.easy_setopt(handle, CURLOPT_UPLOAD, 1L);
    curl.easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, (curl_off_t)message_length);
    curl.easy_setopt(handle, CURLOPT_TIMEOUT, timeout_seconds);
    curl.easy_setopt(handle, CURLOPT_CONNECTTIMEOUT, timeout_seconds);
    curl.easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl.easy_setopt(handle, CURLOPT_DEBUGFUNCTION, keep_reply);
    curl.easy_setopt(handle, CURLOPT_DEBUGDATA, &last);
    curl.easy_setopt(handle, CURLOPT_VERBOSE, 1L);

    CURLcode rc = curl.easy_perform(handle);
    int result = 0;
    if (rc != CURLE_OK) {
        long reply = 0;
        curl.easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &reply);
        if (reply >= 400) {
            snprintf(error, error_size, "server replied %s", last.line[0] ? last.line : curl_error);
            result = (int)reply;
        } else {
            snprintf(error, error_size, "%s", curl_error[0] ? curl_error : curl.easy_strerror(rc));
            result = (int)rc;
        }
    }
    curl.slist_free_all(recipients);
    curl.easy_cleanup(handle);
    return result;
}
