// Libraries that only some commands need, loaded when first used instead of linked: a linked
// library and everything it pulls in is mapped and relocated by every command, which costs start
// time and resident memory (libarchive brings libxml2 and ICU; libcurl brings Kerberos, LDAP,
// SSH, ...). The headers still declare every function, so the pointers are typed exactly.
#pragma once

#include <dlfcn.h>
#include <fmt/format.h>

#include <string>

namespace kh {

// dlopen(soname), or nullptr with `error` saying which Debian package provides it.
inline void* openLibrary(const char* soname, const char* debian_package, std::string& error) {
  void* h = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* why = ::dlerror();
    error = fmt::format("{} is not installed (Debian package {}): {}", soname, debian_package,
                        why ? why : "not found");
  }
  return h;
}

// Points `fn` at `name` in `lib`; the first missing symbol is named in `error`.
template <typename F>
void loadSymbol(void* lib, const char* name, F& fn, std::string& error) {
  fn = lib ? reinterpret_cast<F>(::dlsym(lib, name)) : nullptr;
  if (!fn && error.empty()) error = fmt::format("the installed library has no {}", name);
}

}  // namespace kh
