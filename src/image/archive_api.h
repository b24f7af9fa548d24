// The libarchive functions kubeharden uses, from libarchive.so.13 loaded on first use
// (base/dynlib.h says why). Reading images and zip archives goes through archiveApi(); a
// machine without libarchive gets a clear error from those commands and nothing else changes.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <string>

namespace kh::image {

struct ArchiveApi {
  decltype(&archive_read_new) read_new = nullptr;
  decltype(&archive_read_free) read_free = nullptr;
  decltype(&archive_read_support_filter_all) support_filter_all = nullptr;
  decltype(&archive_read_support_format_tar) support_format_tar = nullptr;
  decltype(&archive_read_support_format_gnutar) support_format_gnutar = nullptr;
  decltype(&archive_read_support_format_zip) support_format_zip = nullptr;
  decltype(&archive_read_support_format_raw) support_format_raw = nullptr;
  decltype(&archive_read_open_filename) open_filename = nullptr;
  decltype(&archive_read_open_memory) open_memory = nullptr;
  decltype(&archive_read_open) open = nullptr;
  decltype(&archive_read_next_header) next_header = nullptr;
  decltype(&archive_read_data) read_data = nullptr;
  decltype(&archive_error_string) error_string = nullptr;
  decltype(&archive_entry_pathname) entry_pathname = nullptr;
  decltype(&archive_entry_size) entry_size = nullptr;
  decltype(&archive_entry_perm) entry_perm = nullptr;
  decltype(&archive_entry_hardlink) entry_hardlink = nullptr;
  decltype(&archive_entry_symlink) entry_symlink = nullptr;
  decltype(&archive_entry_filetype) entry_filetype = nullptr;
  std::string error;  // non-empty: libarchive could not be loaded, and why
};

// Loaded once per process (thread-safe).
const ArchiveApi& archiveApi();

}  // namespace kh::image
