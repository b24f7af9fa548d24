#include "image/archive_api.h"

#include "base/dynlib.h"

namespace kh::image {

const ArchiveApi& archiveApi() {
  static const ArchiveApi api = [] {
    ArchiveApi a;
    void* lib = openLibrary("libarchive.so.13", "libarchive13", a.error);
    loadSymbol(lib, "archive_read_new", a.read_new, a.error);
    loadSymbol(lib, "archive_read_free", a.read_free, a.error);
    loadSymbol(lib, "archive_read_support_filter_all", a.support_filter_all, a.error);
    loadSymbol(lib, "archive_read_support_format_tar", a.support_format_tar, a.error);
    loadSymbol(lib, "archive_read_support_format_gnutar", a.support_format_gnutar, a.error);
    loadSymbol(lib, "archive_read_support_format_zip", a.support_format_zip, a.error);
    loadSymbol(lib, "archive_read_support_format_raw", a.support_format_raw, a.error);
    loadSymbol(lib, "archive_read_open_filename", a.open_filename, a.error);
    loadSymbol(lib, "archive_read_open_memory", a.open_memory, a.error);
    loadSymbol(lib, "archive_read_open", a.open, a.error);
    loadSymbol(lib, "archive_read_next_header", a.next_header, a.error);
    loadSymbol(lib, "archive_read_data", a.read_data, a.error);
    loadSymbol(lib, "archive_error_string", a.error_string, a.error);
    loadSymbol(lib, "archive_entry_pathname", a.entry_pathname, a.error);
    loadSymbol(lib, "archive_entry_size", a.entry_size, a.error);
    loadSymbol(lib, "archive_entry_perm", a.entry_perm, a.error);
    loadSymbol(lib, "archive_entry_hardlink", a.entry_hardlink, a.error);
    loadSymbol(lib, "archive_entry_symlink", a.entry_symlink, a.error);
    loadSymbol(lib, "archive_entry_filetype", a.entry_filetype, a.error);
    return a;  // the library stays loaded for the life of the process
  }();
  return api;
}

}  // namespace kh::image
