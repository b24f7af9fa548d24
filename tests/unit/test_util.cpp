#include "tests/unit/test_util.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kh::test {

std::unique_ptr<SourceFile> loadText(const std::string& text, const std::string& path) {
  auto f = std::make_unique<SourceFile>();
  f->path = path;
  f->buffer = text;
  parseSource(LoadOptions{}, *f);
  return f;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string sharedDir(std::string_view sub) {
  std::string dir = std::string(KH_SHARED_DIR) + "/" + std::string(sub);
  std::error_code ec;
  return std::filesystem::exists(dir, ec) ? dir : std::string();
}

std::string toolPath(std::string_view name) {
  std::string env(name);
  for (char& c : env) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (const char* v = std::getenv(env.c_str()); v && *v) return v;
  std::string installed =
      std::string(KH_SOURCE_DIR) + "/deps/npm/node_modules/.bin-tools/" + std::string(name);
  std::error_code ec;
  if (std::filesystem::exists(installed, ec)) return installed;
  return std::string(name);
}

CycloneDxSchema cycloneDxSchema() {
  std::string shared = sharedDir("schemas/cyclonedx-1.6");
  if (!shared.empty()) return {shared + "/bom-1.6.schema.json", shared + "/spdx.schema.json"};
  std::string npm =
      std::string(KH_SOURCE_DIR) + "/deps/npm/node_modules/@cyclonedx/cyclonedx-library/res/schema";
  std::error_code ec;
  if (!std::filesystem::exists(npm + "/bom-1.6.SNAPSHOT.schema.json", ec)) return {};
  return {npm + "/bom-1.6.SNAPSHOT.schema.json", npm + "/spdx.SNAPSHOT.schema.json"};
}

namespace {

std::vector<Finding> runWith(const kh::Registry& registry, const SourceFile& f) {
  ScanIndex index;
  for (const Object& o : f.objects) index.add(&o);
  CheckContext ctx{&index};
  VectorSink sink;
  for (const Object& o : f.objects) registry.dispatch(o, ctx, sink);
  registry.finish(ctx, sink);
  return sink.findings;
}

}  // namespace

std::vector<Finding> runAllChecks(const SourceFile& f) {
  static const kh::Registry registry(makeCatalogue());
  return runWith(registry, f);
}

std::vector<Finding> runAllChecks(const SourceFile& f, std::string_view check_id,
                                  const Node* options) {
  auto checks = makeCatalogue();
  for (auto& c : checks) {
    if (c->meta().id != check_id) continue;
    Status s = c->configure(options);
    EXPECT_TRUE(s) << (s ? "" : s.error().describe());
  }
  kh::Registry registry(std::move(checks));
  return runWith(registry, f);
}

CmdResult runCli(const std::string& args, const std::string& cwd, const std::string& stdin_text,
                 const std::string& env) {
  TempDir io;
  std::string in = io.write("stdin", stdin_text);
  std::string out = io.path() + "/stdout", err = io.path() + "/stderr";
  std::string cmd;
  if (!cwd.empty()) cmd += "cd '" + cwd + "' && ";
  cmd += "NO_COLOR=1 KUBEHARDEN_TODAY=2026-06-15 " + env + " ";
  cmd += std::string(KH_BINARY) + " " + args + " <'" + in + "' >'" + out + "' 2>'" + err + "'";
  int status = std::system(cmd.c_str());
  CmdResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = readFile(out);
  r.err = readFile(err);
  return r;
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "kh-test-XXXXXX").string();
  if (char* p = mkdtemp(tmpl.data())) path_ = p;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  std::filesystem::path p = std::filesystem::path(path_) / name;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
  return p.string();
}

}  // namespace kh::test
