// Scalars resolve as sigs.k8s.io/yaml (go-yaml v2, YAML 1.1) resolves them for the API server.
#include "load/scalar.h"

#include <gtest/gtest.h>

namespace kh {
namespace {

Node resolve(std::string_view s) {
  Node n;
  resolvePlainScalar(s, n);
  return n;
}

TEST(Scalar, Yaml11Booleans) {
  for (auto t : {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}) {
    Node n = resolve(t);
    EXPECT_EQ(n.type, NodeType::kBool) << t;
    EXPECT_TRUE(n.bool_value) << t;
  }
  for (auto f : {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}) {
    Node n = resolve(f);
    EXPECT_EQ(n.type, NodeType::kBool) << f;
    EXPECT_FALSE(n.bool_value) << f;
  }
  // Not booleans: other spellings stay strings.
  for (auto s : {"yEs", "oN", "tRUE", "nope", "onion", "Yes!"})
    EXPECT_EQ(resolve(s).type, NodeType::kString) << s;
}

TEST(Scalar, Nulls) {
  for (auto s : {"", "~", "null", "Null", "NULL"}) EXPECT_EQ(resolve(s).type, NodeType::kNull) << s;
  EXPECT_EQ(resolve("nULL").type, NodeType::kString);
}

TEST(Scalar, IntegersIncludingOctalHexBinary) {
  struct Case {
    const char* in;
    int64_t v;
  } cases[] = {
      {"0", 0},
      {"42", 42},
      {"-7", -7},
      {"+9", 9},
      {"0644", 420},
      {"0o17", 15},
      {"0x1F", 31},
      {"-0x10", -16},
      {"0b101", 5},
      {"1_000", 1000},
      {"1_", 1},
      {"9223372036854775807", INT64_MAX},
      {"-9223372036854775808", INT64_MIN},
  };
  for (const auto& c : cases) {
    Node n = resolve(c.in);
    ASSERT_EQ(n.type, NodeType::kInt) << c.in;
    EXPECT_EQ(n.int_value, c.v) << c.in;
    EXPECT_EQ(n.text, c.in);
  }
}

TEST(Scalar, Floats) {
  struct Case {
    const char* in;
    double v;
  } cases[] = {
      {"1e3", 1000},
      {"1.5", 1.5},
      {"-2.5e-1", -0.25},
      {".5", 0.5},
      {"08", 8},
      {"09.5", 9.5},
      {"18446744073709551616", 18446744073709551616.0},
  };
  for (const auto& c : cases) {
    Node n = resolve(c.in);
    ASSERT_EQ(n.type, NodeType::kFloat) << c.in;
    EXPECT_DOUBLE_EQ(n.float_value, c.v) << c.in;
  }
  EXPECT_EQ(resolve(".inf").type, NodeType::kFloat);
  EXPECT_EQ(resolve("-.Inf").type, NodeType::kFloat);
  EXPECT_EQ(resolve(".nan").type, NodeType::kFloat);
  // A float written as an integer is usable where the API expects one (JSON has no int type).
  EXPECT_EQ(resolve("1e3").asInt(), 1000);
  EXPECT_EQ(resolve("1.5").asInt(), std::nullopt);
}

TEST(Scalar, StringsThatLookNumeric) {
  for (auto s : {"1.2.3", "0x", "0xZZ", "1e", "12:30", "2024-01-01", "v1", "-", "+", ".", "0b2",
                 "inf", "nan", "1e999"})
    EXPECT_EQ(resolve(s).type, NodeType::kString) << s;
}

TEST(Scalar, KeysRenderAsJsonKeys) {
  EXPECT_EQ(keyString(resolve("on")), "true");
  EXPECT_EQ(keyString(resolve("No")), "false");
  EXPECT_EQ(keyString(resolve("0x10")), "16");
  EXPECT_EQ(keyString(resolve("name")), "name");
  EXPECT_EQ(keyString(resolve("~")), "null");
}

}  // namespace
}  // namespace kh
