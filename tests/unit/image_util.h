// Builders for test images: tar (and zip) archives written with libarchive, digests, configs.
// No Docker daemon is needed to make an image.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "image/filesystem.h"

namespace kh::image::fixtures {

struct Member {
  std::string path;
  std::string content;
  char type = 'f';  // f file, d dir, l symlink, h hardlink, x executable file
  std::string link;
};

// A tar archive of `members`; filter "", "gzip" or "zstd". zipOf writes a zip (Java archives).
std::string tarOf(const std::vector<Member>& members, std::string_view filter = "");
std::string zipOf(const std::vector<Member>& members);
std::string sha256(std::string_view data);
// "blobs/sha256/<hex>" for a "sha256:<hex>" digest.
std::string blob(std::string_view digest);
// A layer blob's uncompressed bytes (gzip, zstd, ... or already plain).
std::string uncompressed(std::string_view blob);
// An image config whose diff IDs are those of the layer blobs `layers`.
std::string config(const std::vector<std::string>& layers, std::string_view arch = "amd64");
// Runs a shell command; its exit code (stdout and stderr to `out` when given).
int shell(const std::string& cmd, std::string* out = nullptr);
// A self-signed RSA certificate for tests (openssl CLI): DIR/key.pem and DIR/cert.pem (or the
// names given) with subject CN and, unless empty, the subjectAltName `san` ("IP:127.0.0.1").
// The shell's exit status; its output goes to *out.
int selfSignedCert(const std::string& dir, const std::string& cn, const std::string& san,
                   std::string* out, const std::string& key = "key.pem",
                   const std::string& cert = "cert.pem");
// Validates a CycloneDX file against the 1.6 schema (kh::test::cycloneDxSchema()) with
// tests/tools/validate_sbom.py: 0 valid, 1 invalid (errors in `out`), -1 no schema here.
int validateCycloneDx(const std::string& file, std::string* out);

// A kubeharden/image/v1 JSON report without each image's `image` object (where it came from),
// for comparing the same image read from a tarball and from a registry. `blobs_too`: without the
// layers' blob digests and media types either, and layers named by diff ID wherever the report
// names them by digest (a push compresses an uncompressed `docker save` layer; its diff ID
// stays).
std::string reportWithoutSource(const std::string& json, bool blobs_too = false);

// The filesystem of an image whose layers hold `layers`, in order, read with the inventory's
// content handlers.
Filesystem filesystemOf(const std::vector<std::vector<Member>>& layers);

}  // namespace kh::image::fixtures
