// The strict JSON reader of the admission path: the same Node tree the YAML reader builds for
// JSON, exact numbers, last-wins duplicates, positions, and clear errors for bad input.
#include "load/json_reader.h"

#include <gtest/gtest.h>

#include <string>

namespace kh {
namespace {

TEST(JsonReader, BuildsTheTree) {
  Arena arena;
  auto r = parseJson(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{}},
    "spec":{"containers":[{"name":"a","securityContext":{"privileged":true,"runAsUser":0}}],
    "n":1.5,"big":12345678901234,"nil":null,"s":"\u00e9\n"}})",
                     arena);
  ASSERT_TRUE(r) << r.error().describe();
  const Node* root = r.value();
  EXPECT_EQ(getStr(root, "kind"), "Pod");
  const Node* c = get(root, "spec")->get("containers")->seqItems()[0];
  EXPECT_TRUE(getTrue(get(c, "securityContext"), "privileged"));
  const Node* uid = get(get(c, "securityContext"), "runAsUser");
  ASSERT_TRUE(uid->asInt());
  EXPECT_EQ(*uid->asInt(), 0);
  EXPECT_EQ(get(get(root, "spec"), "n")->type, NodeType::kFloat);
  EXPECT_EQ(*get(get(root, "spec"), "big")->asInt(), 12345678901234);
  EXPECT_TRUE(get(get(root, "spec"), "nil")->isNull());
  EXPECT_EQ(getStr(get(root, "spec"), "s"), "\xc3\xa9\n");
  EXPECT_TRUE(get(get(root, "metadata"), "labels")->isMap());
  EXPECT_EQ(get(root, "kind")->pos.line, 1u);  // positions count lines
  EXPECT_EQ(get(root, "spec")->get("containers")->pos.line, 2u);
  EXPECT_EQ(get(get(root, "spec"), "n")->pos.line, 3u);
}

TEST(JsonReader, DuplicateKeysKeepTheLastValue) {
  Arena arena;
  auto r = parseJson(R"({"a":1,"b":2,"a":3})", arena);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value()->size, 2u);
  EXPECT_EQ(*get(r.value(), "a")->asInt(), 3);
}

TEST(JsonReader, RejectsWhatIsNotStrictJson) {
  Arena arena;
  for (std::string bad : {"", "{", "{\"a\":1,}", "{\"a\":1} x", "[1 2]", "{'a':1}",
                          "{\"a\":\"\xff\"}", "// c\n{}", "{\"a\":01}"}) {
    auto r = parseJson(bad, arena);
    EXPECT_FALSE(r) << "accepted: " << bad;
  }
  auto r = parseJson("{\n  \"a\": tru\n}", arena);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().pos.line, 2u) << r.error().describe();
  EXPECT_NE(r.error().message.find("invalid JSON"), std::string::npos);
  std::string nul("{\"a\":\"x\0y\"}", 11);
  EXPECT_FALSE(parseJson(nul, arena));
  // Cut inside a multi-byte sequence at the very end (the validator once read past the buffer).
  for (std::string cut :
       {std::string("{\"a\":\"\xe0", 7), std::string("\"\xf0\x9f", 3), std::string("[\"\xc3", 3)})
    EXPECT_FALSE(parseJson(cut, arena));
}

TEST(JsonReader, EnforcesLimits) {
  Arena arena;
  std::string deep(150, '[');
  deep += std::string(150, ']');
  auto r = parseJson(deep, arena);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("deeper than 100"), std::string::npos) << r.error().message;
  JsonLimits small;
  small.max_bytes = 10;
  auto big = parseJson("{\"aaaaaaaaaaa\":1}", arena, small);
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message.find("limit"), std::string::npos);
}

}  // namespace
}  // namespace kh
