// JsonWriter and UTF-8 validation: escaping, invalid input repaired, numbers.
#include "switchyard/core/json_writer.hpp"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

TEST(JsonWriter, EscapesControlQuotesAndBackslash) {
    std::string out;
    append_json_string(out, std::string_view("a\"b\\c\n\t\x01z", 9));
    EXPECT_EQ(out, R"("a\"b\\c\n\t\u0001z")");
}

TEST(JsonWriter, KeepsValidUtf8AndReplacesInvalidBytes) {
    std::string out;
    append_json_string(out, "héllo 世界 🎉");
    EXPECT_EQ(out, "\"héllo 世界 🎉\"");
    out.clear();
    append_json_string(out, std::string_view("a\xff"
                                             "b\xc3",
                                             4));
    EXPECT_EQ(out,
              "\"a\xEF\xBF\xBD"
              "b\xEF\xBF\xBD\"");
}

TEST(JsonWriter, ValidatesUtf8) {
    EXPECT_TRUE(is_valid_utf8("plain ascii"));
    EXPECT_TRUE(is_valid_utf8("日本語 🎉"));
    EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
    EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xe6\x97"));          // truncated
}

TEST(JsonWriter, BuildsNestedStructuresWithCommas) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().kv("a", 1).key("b").begin_array().value(true).null().value(2.5).end_array();
    w.kv("c", "x").key("d").begin_object().end_object().end_object();
    EXPECT_EQ(out, R"({"a":1,"b":[true,null,2.5],"c":"x","d":{}})");
}

TEST(JsonWriter, NonFiniteDoublesBecomeNull) {
    std::string out;
    JsonWriter w(out);
    w.begin_array().value(1.0 / 0.0).end_array();
    EXPECT_EQ(out, "[null]");
}

}  // namespace
}  // namespace switchyard
