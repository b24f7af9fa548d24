// libcurl, loaded when first used rather than linked (base/dynlib.h): linked, it and the
// libraries it pulls in (Kerberos, LDAP, SSH, HTTP/2, ...) added 3.5 ms to the start and 4 MB to
// the resident memory of every kubeharden command (docs/design/vuln.md). Internal to net/:
// everything else goes through net::Client.
#pragma once

#include <curl/curl.h>

#include <string>

#include "base/dynlib.h"

namespace kh::net {

struct CurlApi {
  decltype(&curl_global_init) global_init = nullptr;
  decltype(&curl_easy_init) easy_init = nullptr;
  decltype(&curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&curl_easy_reset) easy_reset = nullptr;
  decltype(&curl_easy_setopt) easy_setopt = nullptr;
  decltype(&curl_easy_perform) easy_perform = nullptr;
  decltype(&curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&curl_easy_strerror) easy_strerror = nullptr;
  decltype(&curl_slist_append) slist_append = nullptr;
  decltype(&curl_slist_free_all) slist_free_all = nullptr;
  std::string error;  // why it could not be loaded

  static const CurlApi& get() {
    static const CurlApi c = load();
    return c;
  }

 private:
  static CurlApi load() {
    CurlApi c;
    void* h = openLibrary("libcurl.so.4", "libcurl4", c.error);
    loadSymbol(h, "curl_global_init", c.global_init, c.error);
    loadSymbol(h, "curl_easy_init", c.easy_init, c.error);
    loadSymbol(h, "curl_easy_cleanup", c.easy_cleanup, c.error);
    loadSymbol(h, "curl_easy_reset", c.easy_reset, c.error);
    loadSymbol(h, "curl_easy_setopt", c.easy_setopt, c.error);
    loadSymbol(h, "curl_easy_perform", c.easy_perform, c.error);
    loadSymbol(h, "curl_easy_getinfo", c.easy_getinfo, c.error);
    loadSymbol(h, "curl_easy_strerror", c.easy_strerror, c.error);
    loadSymbol(h, "curl_slist_append", c.slist_append, c.error);
    loadSymbol(h, "curl_slist_free_all", c.slist_free_all, c.error);
    if (c.error.empty() && c.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      c.error = "libcurl could not be initialised";
    return c;  // the library stays loaded for the life of the process
  }
};

}  // namespace kh::net
