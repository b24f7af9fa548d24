// Differential test of the CEL engine against an independent one, @bufbuild/cel (npm, pinned;
// skipped with a message where scripts/install-deps has not installed it): thousands of
// generated expressions over the core language (integers, unsigned integers, doubles, strings,
// booleans, lists, maps; arithmetic with its overflow and division errors, comparisons across
// numeric types, logic with error absorption, conditionals, membership, indexing, size,
// conversions, the macros, the strings extension) evaluated by both; every value must be the
// same value and every error an error on both sides. The few known differences between the
// engines are a named list (docs/design/cel.md "Differential testing").
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cel/eval.h"
#include "tests/unit/image_util.h"
#include "tests/unit/test_util.h"

namespace kh::test {
namespace cel_diff_tests {

const std::string kModules = std::string(KH_SOURCE_DIR) + "/deps/npm/node_modules";

// JSON.stringify's escaping of a string.
std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// The canonical form tests/unit/cel_diff.cjs writes for @bufbuild/cel's values.
std::string canon(const cel::Value& v) {
  char buf[64];
  switch (v.kind) {
    case cel::Kind::kNull:
      return "null";
    case cel::Kind::kBool:
      return v.b ? "true" : "false";
    case cel::Kind::kInt:
      return "i:" + std::to_string(v.i);
    case cel::Kind::kUint:
      return "u:" + std::to_string(v.u);
    case cel::Kind::kDouble: {
      if (std::isnan(v.d)) return "d:nan";
      uint64_t bits;
      std::memcpy(&bits, &v.d, 8);
      std::snprintf(buf, sizeof buf, "d:%llx", static_cast<unsigned long long>(bits));
      return buf;
    }
    case cel::Kind::kString:
      return "s:" + jsonString(v.str());
    case cel::Kind::kBytes: {
      std::string out = "b:";
      for (unsigned char c : v.str()) {
        std::snprintf(buf, sizeof buf, "%02x", c);
        out += buf;
      }
      return out;
    }
    case cel::Kind::kType:
      return "t:" + std::string(v.str());
    case cel::Kind::kList: {
      std::string out = "[";
      for (size_t k = 0; k < v.size(); ++k) out += (k ? "," : "") + canon(v.item(k));
      return out + "]";
    }
    case cel::Kind::kMap: {
      std::vector<std::string> entries;
      for (size_t k = 0; k < v.size(); ++k)
        entries.push_back(canon(v.key(k)) + "=" + canon(v.val(k)));
      std::sort(entries.begin(), entries.end());
      std::string out = "{";
      for (size_t k = 0; k < entries.size(); ++k) out += (k ? "," : "") + entries[k];
      return out + "}";
    }
    case cel::Kind::kError:
    case cel::Kind::kUnknown:
      return "error";
    default:
      return "?";
  }
}

// Random expressions of a wanted type (sometimes deliberately another, for the error paths).
class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}

  std::string any(int depth) {
    switch (pick(7)) {
      case 0:
        return integer(depth);
      case 1:
        return uinteger(depth);
      case 2:
        return dbl(depth);
      case 3:
        return str(depth);
      case 4:
        return boolean(depth);
      case 5:
        return list(depth);
      default:
        return map(depth);
    }
  }

  std::string boolean(int depth) {
    if (depth <= 0) return pick(2) ? "true" : "false";
    int d = depth - 1;
    switch (pick(16)) {
      case 0:
        return "(" + any(d) + " == " + any(d) + ")";
      case 1:
        return "(" + number(d) + " != " + number(d) + ")";
      case 2:
        return "(" + number(d) + " < " + number(d) + ")";
      case 3:
        return "(" + number(d) + " >= " + number(d) + ")";
      case 4:
        return "(" + boolean(d) + " && " + boolean(d) + ")";
      case 5:
        return "(" + boolean(d) + " || " + boolean(d) + ")";
      case 6:
        return "!" + boolean(d);
      case 7:
        return "(" + integer(d) + " in " + list(d) + ")";
      case 8:
        return "(" + str(d) + " in " + map(d) + ")";
      case 9:
        return str(d) + ".startsWith(" + str(d) + ")";
      case 10:
        return str(d) + ".contains(" + str(d) + ")";
      case 11:
        return list(d) + ".all(x, x > " + integer(d) + ")";
      case 12:
        return list(d) + ".exists(x, x % 2 == 0)";
      case 13:
        return list(d) + ".exists_one(x, x == " + integer(d) + ")";
      case 14:
        return "(" + str(d) + " < " + str(d) + ")";
      default:
        return "(" + boolean(d) + " ? " + boolean(d) + " : " + boolean(d) + ")";
    }
  }

  std::string integer(int depth) {
    static const char* kLits[] = {
        "0",       "1", "2", "7", "-3", "42", "9223372036854775807", "-9223372036854775807",
        "1000000", "-1"};
    if (depth <= 0) return kLits[pick(10)];
    int d = depth - 1;
    switch (pick(14)) {
      case 0:
        return "(" + integer(d) + " + " + integer(d) + ")";
      case 1:
        return "(" + integer(d) + " - " + integer(d) + ")";
      case 2:
        return "(" + integer(d) + " * " + integer(d) + ")";
      case 3:
        return "(" + integer(d) + " / " + integer(d) + ")";
      case 4:
        return "(" + integer(d) + " % " + integer(d) + ")";
      case 5:
        return "-" + integer(d);
      case 6:
        return "size(" + str(d) + ")";
      case 7:
        return list(d) + ".size()";
      case 8:
        return "int(" + dbl(d) + ")";
      case 9:
        return "int(" + uinteger(d) + ")";
      case 10:
        return list(d) + "[" + integer(0) + "]";
      case 11:
        return str(d) + ".indexOf(" + str(0) + ")";
      case 12:
        return "(" + boolean(d) + " ? " + integer(d) + " : " + integer(d) + ")";
      default:
        return kLits[pick(10)];
    }
  }

  std::string uinteger(int depth) {
    static const char* kLits[] = {"0u", "1u", "3u", "18446744073709551615u", "100u"};
    if (depth <= 0) return kLits[pick(5)];
    int d = depth - 1;
    switch (pick(7)) {
      case 0:
        return "(" + uinteger(d) + " + " + uinteger(d) + ")";
      case 1:
        return "(" + uinteger(d) + " - " + uinteger(d) + ")";
      case 2:
        return "(" + uinteger(d) + " * " + uinteger(d) + ")";
      case 3:
        return "(" + uinteger(d) + " / " + uinteger(d) + ")";
      case 4:
        return "uint(" + integer(d) + ")";
      case 5:
        return "uint(" + dbl(d) + ")";
      default:
        return kLits[pick(5)];
    }
  }

  std::string dbl(int depth) {
    static const char* kLits[] = {"0.0", "1.5", "-2.25", "3.0", "1e300", "0.1", "-0.0", "2.5e-3"};
    if (depth <= 0) return kLits[pick(8)];
    int d = depth - 1;
    switch (pick(8)) {
      case 0:
        return "(" + dbl(d) + " + " + dbl(d) + ")";
      case 1:
        return "(" + dbl(d) + " - " + dbl(d) + ")";
      case 2:
        return "(" + dbl(d) + " * " + dbl(d) + ")";
      case 3:
        return "(" + dbl(d) + " / " + dbl(d) + ")";
      case 4:
        return "double(" + integer(d) + ")";
      case 5:
        return "double(" + uinteger(d) + ")";
      case 6:
        return "-" + dbl(d);
      default:
        return kLits[pick(8)];
    }
  }

  std::string number(int depth) {
    switch (pick(3)) {
      case 0:
        return integer(depth);
      case 1:
        return uinteger(depth);
      default:
        return dbl(depth);
    }
  }

  std::string str(int depth) {
    static const char* kLits[] = {"''",      "'a'",   "'abc'", "'héllo'",
                                  "'a,b,c'", "' x '", "'ABC'", "'\\n'"};
    if (depth <= 0) return kLits[pick(8)];
    int d = depth - 1;
    switch (pick(11)) {
      case 0:
        return "(" + str(d) + " + " + str(d) + ")";
      case 1:
        return "string(" + integer(d) + ")";
      case 2:
        return "string(" + uinteger(d) + ")";
      case 3:
        return str(d) + ".lowerAscii()";
      case 4:
        return str(d) + ".upperAscii()";
      case 5:
        return str(d) + ".replace('a', 'b')";
      case 6:
        return str(d) + ".trim()";
      case 7:
        return str(d) + ".substring(" + std::to_string(pick(3)) + ")";
      case 8:
        return str(d) + ".charAt(" + std::to_string(pick(3)) + ")";
      case 9:
        return "(" + boolean(d) + " ? " + str(d) + " : " + str(d) + ")";
      default:
        return kLits[pick(8)];
    }
  }

  std::string list(int depth) {
    if (depth <= 0) return pick(3) ? "[1, 2, 3]" : "[]";
    int d = depth - 1;
    switch (pick(6)) {
      case 0:
        return "[" + integer(d) + ", " + integer(d) + "]";
      case 1:
        return "(" + list(d) + " + " + list(d) + ")";
      case 2:
        return list(d) + ".map(x, x * 2)";
      case 3:
        return list(d) + ".filter(x, x > 1)";
      case 4:
        return "[" + integer(d) + "]";
      default:
        return "[1, 2, 3]";
    }
  }

  std::string map(int depth) {
    if (depth <= 0) return pick(2) ? "{'a': 1, 'b': 2}" : "{}";
    return "{" + str(0) + ": " + integer(depth - 1) + "}";
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }
  std::mt19937 rng_;
};

// Known differences between the two engines, each with its reason; a disagreement on an
// expression none of these describe fails the test.
struct Known {
  const char* what;
  bool (*matches)(const std::string& expr, const std::string& ours, const std::string& theirs);
};

TEST(CelDifferential, AgreesWithBufbuildCel) {
  if (::access((kModules + "/@bufbuild/cel/dist/cjs/index.js").c_str(), R_OK) != 0 ||
      ::access((kModules + "/@bufbuild/protobuf").c_str(), R_OK) != 0 ||
      image::fixtures::shell("node --version >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "@bufbuild/cel (scripts/install-deps) or node is not installed";
  Gen gen(20261207);
  std::vector<std::string> exprs;
  for (int k = 0; k < 6000; ++k) {
    int depth = 1 + k % 4;
    switch (k % 5) {
      case 0:
        exprs.push_back(gen.boolean(depth));
        break;
      case 1:
        exprs.push_back(gen.integer(depth));
        break;
      case 2:
        exprs.push_back(gen.str(depth));
        break;
      case 3:
        exprs.push_back(gen.dbl(depth));
        break;
      default:
        exprs.push_back(gen.any(depth));
    }
  }
  TempDir t;
  std::string json = "[";
  for (size_t k = 0; k < exprs.size(); ++k) json += (k ? "," : "") + jsonString(exprs[k]);
  t.write("exprs.json", json + "]");
  std::string out;
  ASSERT_EQ(
      image::fixtures::shell("node " + std::string(KH_SOURCE_DIR) + "/tests/unit/cel_diff.cjs " +
                                 kModules + " < " + t.path() + "/exprs.json",
                             &out),
      0)
      << out;
  std::vector<std::string> theirs;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) theirs.push_back(line);
  ASSERT_EQ(theirs.size(), exprs.size());

  const std::vector<Known> known = {
      {"@bufbuild/cel 0.6.1 refuses an unsigned division by 1u whose dividend is 2^63 or more "
       "(\"int overflow during divide by 1\": the signed rule applied to uint); CEL defines "
       "it, as cel-go does",
       [](const std::string& expr, const std::string& ours, const std::string& theirs) {
         return expr.find("/ 1u") != std::string::npos && theirs == "error" && ours != "error";
       }},
  };
  size_t agree = 0, values = 0, errors = 0;
  std::vector<std::string> disagreements;
  for (size_t k = 0; k < exprs.size(); ++k) {
    cel::ParseResult p = cel::parse(exprs[k]);
    std::string ours = p.ok() ? canon(cel::evaluate(*p.expr, {})) : "error";
    if (ours == theirs[k]) {
      ++agree;
      (ours == "error" ? errors : values)++;
      continue;
    }
    bool explained = false;
    for (const Known& kn : known) explained = explained || kn.matches(exprs[k], ours, theirs[k]);
    if (!explained)
      disagreements.push_back(exprs[k] + "\n    ours:   " + ours + "\n    theirs: " + theirs[k]);
  }
  std::printf("%zu expressions: %zu agree (%zu values, %zu errors), %zu unexplained\n",
              exprs.size(), agree, values, errors, disagreements.size());
  // Both sides of the comparison are exercised: many values and many errors.
  EXPECT_GT(values, exprs.size() / 2);
  EXPECT_GT(errors, exprs.size() / 50);
  for (size_t k = 0; k < disagreements.size() && k < 25; ++k) ADD_FAILURE() << disagreements[k];
}

}  // namespace cel_diff_tests
}  // namespace kh::test
