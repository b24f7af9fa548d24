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

TEST(JsonReader, NumbersKeepTheirTextAndValue) {
  Arena arena;
  auto r = parseJson(R"({"a":-0,"b":-123456789012345678,"c":9223372036854775807,
    "d":18446744073709551616,"e":1e3,"f":-2.5,"g":0})",
                     arena);
  ASSERT_TRUE(r) << r.error().describe();
  const Node* root = r.value();
  auto num = [&](const char* k) { return get(root, k); };
  EXPECT_EQ(num("a")->type, NodeType::kInt);
  EXPECT_EQ(*num("a")->asInt(), 0);
  EXPECT_EQ(num("a")->text, "-0");
  EXPECT_EQ(*num("b")->asInt(), -123456789012345678);  // 18 digits: the quick path
  EXPECT_EQ(*num("c")->asInt(), INT64_MAX);            // 19 digits: the general path
  EXPECT_EQ(num("d")->type, NodeType::kFloat);         // beyond int64
  EXPECT_EQ(num("e")->type, NodeType::kFloat);
  EXPECT_EQ(num("e")->text, "1e3");
  EXPECT_EQ(num("f")->type, NodeType::kFloat);
  EXPECT_DOUBLE_EQ(num("f")->float_value, -2.5);
  EXPECT_EQ(*num("g")->asInt(), 0);
}

TEST(JsonReader, LargeObjectsKeepTheLastOfDuplicateKeys) {
  // Past 32 keys duplicates are found through a hash (a client controls the object's size: a
  // pairwise comparison would be quadratic); both paths keep the first place, the last value.
  Arena arena;
  std::string body = "{";
  const int kKeys = 200000;
  for (int i = 0; i < kKeys; ++i)
    body += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  body += "\"k7\":-1,\"k199999\":-2}";
  auto r = parseJson(body, arena, JsonLimits{.max_bytes = 8u << 20});
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r.value()->size, static_cast<uint32_t>(kKeys));
  EXPECT_EQ(*get(r.value(), "k7")->asInt(), -1);
  EXPECT_EQ(*get(r.value(), "k199999")->asInt(), -2);
  EXPECT_EQ(*get(r.value(), "k8")->asInt(), 8);
  EXPECT_EQ(r.value()->mapEntries()[7].key, "k7");
  auto small = parseJson(R"({"x":1,"y":2,"x":3,"z":4,"y":5})", arena);
  ASSERT_TRUE(small);
  ASSERT_EQ(small.value()->size, 3u);
  EXPECT_EQ(small.value()->mapEntries()[0].key, "x");
  EXPECT_EQ(*small.value()->mapEntries()[0].value->asInt(), 3);
  EXPECT_EQ(*small.value()->mapEntries()[1].value->asInt(), 5);
  EXPECT_EQ(small.value()->mapEntries()[2].key, "z");
}

TEST(JsonReader, StringsAreUnescapedInPlace) {
  Arena arena;
  auto r = parseJson(
      R"(["plain","a\"b","tab\there","\u00e9\ud83d\ude00","", "0123456789abcdef0123456789abcdef\n"])",
      arena);
  ASSERT_TRUE(r) << r.error().describe();
  auto items = r.value()->seqItems();
  ASSERT_EQ(items.size(), 6u);
  EXPECT_EQ(items[0]->str(), "plain");
  EXPECT_EQ(items[1]->str(), "a\"b");
  EXPECT_EQ(items[2]->str(), "tab\there");
  EXPECT_EQ(items[3]->str(), "\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(items[4]->str(), "");
  EXPECT_EQ(items[5]->str(), "0123456789abcdef0123456789abcdef\n");
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
  // Invalid UTF-8 anywhere is named with its place; a surrogate encoded in UTF-8 is invalid.
  auto bad = parseJson("{\n \"a\": \"ok\",\n \"b\": \"x\xed\xa0\x80\"}", arena);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("UTF-8"), std::string::npos) << bad.error().message;
  EXPECT_EQ(bad.error().pos.line, 3u);
  EXPECT_EQ(bad.error().pos.col, 9u);
  EXPECT_TRUE(parseJson("{\"a\":\"\xf0\x9f\x98\x80\"}", arena));
  // A lone surrogate escape is not a character (RapidJSON refuses a lone high one itself).
  for (const char* lone : {R"(["\udc00"])", R"({"\udfff":1})", R"(["\ud800x"])"}) {
    auto r = parseJson(lone, arena);
    ASSERT_FALSE(r) << lone;
    EXPECT_NE(r.error().message.find("surrogate"), std::string::npos) << r.error().message;
  }
  EXPECT_TRUE(parseJson(R"(["\ud83d\ude00 \u003c"])", arena));
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
