// libcurl's curl_easy_setopt/getinfo are variadic, which Swift cannot call; these typed
// wrappers are the only C that TowerHTTP needs.
#ifndef TOWER_CCURL_SHIM_H
#define TOWER_CCURL_SHIM_H
#include <curl/curl.h>

static inline CURLcode tower_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode tower_curl_setopt_str(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode tower_curl_setopt_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode tower_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode tower_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*tower_curl_write_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode tower_curl_setopt_writefn(CURL *h, CURLoption o, tower_curl_write_cb v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode tower_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
#endif
