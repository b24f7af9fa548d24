#include "tests/unit/image_util.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/wait.h>

#include <cstdio>

#include "image/analyzers.h"
#include "image/tar_reader.h"
#include "tests/unit/test_util.h"

namespace kh::image::fixtures {

namespace {
la_ssize_t appendOut(archive*, void* data, const void* buf, size_t n) {
  static_cast<std::string*>(data)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}
}  // namespace

std::string tarOf(const std::vector<Member>& members, std::string_view filter) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (filter == "gzip") archive_write_add_filter_gzip(a);
  if (filter == "zstd") archive_write_add_filter_zstd(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(a, &out, nullptr, appendOut, nullptr);
  for (const Member& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.path.c_str());
    archive_entry_set_perm(e, m.type == 'd' || m.type == 'x' ? 0755 : 0644);
    if (m.type == 'd') {
      archive_entry_set_filetype(e, AE_IFDIR);
    } else if (m.type == 'l') {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_symlink(e, m.link.c_str());
    } else if (m.type == 'h') {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_hardlink(e, m.link.c_str());
    } else {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_size(e, static_cast<la_int64_t>(m.content.size()));
    }
    archive_write_header(a, e);
    if (m.type == 'f' || m.type == 'x') archive_write_data(a, m.content.data(), m.content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

std::string sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) hex += fmt::format("{:02x}", md[i]);
  return "sha256:" + hex;
}

std::string blob(std::string_view digest) {
  return "blobs/sha256/" + std::string(digest.substr(7));
}

std::string uncompressed(std::string_view blob) {
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_raw(a);
  std::string out;
  archive_entry* e = nullptr;
  if (archive_read_open_memory(a, blob.data(), blob.size()) == ARCHIVE_OK &&
      archive_read_next_header(a, &e) == ARCHIVE_OK) {
    char buf[65536];
    for (la_ssize_t n; (n = archive_read_data(a, buf, sizeof buf)) > 0;)
      out.append(buf, static_cast<size_t>(n));
  }
  archive_read_free(a);
  return out;
}

std::string config(const std::vector<std::string>& layers, std::string_view arch) {
  std::string diff_ids;
  for (size_t i = 0; i < layers.size(); ++i)
    diff_ids += fmt::format("{}\"{}\"", i ? "," : "", sha256(uncompressed(layers[i])));
  return fmt::format(
      R"({{"architecture":"{}","os":"linux","config":{{"User":"app"}},"rootfs":{{"type":"layers","diff_ids":[{}]}}}})",
      arch, diff_ids);
}

std::string zipOf(const std::vector<Member>& members) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_open(a, &out, nullptr, appendOut, nullptr);
  for (const Member& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.path.c_str());
    archive_entry_set_perm(e, 0644);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, static_cast<la_int64_t>(m.content.size()));
    archive_write_header(a, e);
    archive_write_data(a, m.content.data(), m.content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

int selfSignedCert(const std::string& dir, const std::string& cn, const std::string& san,
                   std::string* out, const std::string& key, const std::string& cert) {
  return shell(fmt::format("cd {} && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN={}"
                           "{} -keyout {} -out {} 2>/dev/null",
                           dir, cn, san.empty() ? "" : " -addext subjectAltName=" + san, key, cert),
               out);
}

int shell(const std::string& cmd, std::string* out) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0)
    if (out) out->append(buf, n);
  int rc = pclose(p);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int validateCycloneDx(const std::string& file, std::string* out) {
  kh::test::CycloneDxSchema schema = kh::test::cycloneDxSchema();
  if (schema.bom.empty()) {
    if (out) *out = "no CycloneDX 1.6 schema: run scripts/install-deps";
    return -1;
  }
  return shell(fmt::format("/usr/bin/python3 {}/tests/tools/validate_sbom.py {} {} {}",
                           KH_SOURCE_DIR, schema.bom, file, schema.spdx_ids),
               out);
}

std::string reportWithoutSource(const std::string& json, bool blobs_too) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("images") || !d["images"].IsArray())
    return "not a kubeharden/image/v1 report: " + json.substr(0, 200);
  std::vector<std::pair<std::string, std::string>> digest_to_diff;
  for (auto& img : d["images"].GetArray()) {
    img.RemoveMember("image");
    if (blobs_too && img.HasMember("layers") && img["layers"].IsArray())
      for (auto& l : img["layers"].GetArray()) {
        if (l.HasMember("digest") && l.HasMember("diffId"))
          digest_to_diff.emplace_back(l["digest"].GetString(), l["diffId"].GetString());
        l.RemoveMember("digest");
        l.RemoveMember("mediaType");
      }
  }
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  d.Accept(w);
  std::string out = b.GetString();
  // Packages and secrets name their layer by blob digest: name it by diff ID instead.
  for (const auto& [digest, diff] : digest_to_diff)
    for (size_t at = out.find(digest); at != std::string::npos;
         at = out.find(digest, at + diff.size()))
      out.replace(at, digest.size(), diff);
  return out;
}

Filesystem filesystemOf(const std::vector<std::vector<Member>>& layers) {
  Filesystem fs;
  for (const auto& members : layers) {
    auto r = TarReader::openMemory(tarOf(members), "layer");
    fs.apply(readLayer(*r.value(), inventoryHandlers()));
  }
  return fs;
}

}  // namespace kh::image::fixtures
