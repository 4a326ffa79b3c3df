// SseParser: events split at every byte, CRLF, comments, multi-line data, size bound.
#include "switchyard/core/sse.hpp"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

std::vector<SseEvent> parse_in_pieces(std::string_view text, size_t piece) {
    SseParser p;
    std::vector<SseEvent> out;
    for (size_t i = 0; i < text.size(); i += piece) {
        EXPECT_TRUE(p.feed(text.substr(i, piece), out));
    }
    return out;
}

TEST(SseParser, SameEventsWhateverTheReadBoundaries) {
    const std::string text =
        "event: message_start\ndata: {\"a\":1}\n\n: keep-alive comment\n\ndata: x\r\ndata: "
        "y\r\n\r\n"
        "data:no-space\n\nevent: ping\ndata: {}\n\n";
    for (size_t piece : {1, 2, 3, 7, 64, 1000}) {
        auto ev = parse_in_pieces(text, piece);
        ASSERT_EQ(ev.size(), 4u) << "piece " << piece;
        EXPECT_EQ(ev[0].event, "message_start");
        EXPECT_EQ(ev[0].data, "{\"a\":1}");
        EXPECT_EQ(ev[1].event, "");
        EXPECT_EQ(ev[1].data, "x\ny");
        EXPECT_EQ(ev[2].data, "no-space");
        EXPECT_EQ(ev[3].event, "ping");
    }
}

TEST(SseParser, IncompleteEventIsHeldBack) {
    SseParser p;
    std::vector<SseEvent> out;
    ASSERT_TRUE(p.feed("data: [DO", out));
    EXPECT_TRUE(out.empty());
    ASSERT_TRUE(p.feed("NE]\n", out));
    EXPECT_TRUE(out.empty());
    ASSERT_TRUE(p.feed("\n", out));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].data, "[DONE]");
}

TEST(SseParser, ReportsOversizedEvents) {
    SseParser p(16);
    std::vector<SseEvent> out;
    EXPECT_FALSE(p.feed("data: " + std::string(64, 'x'), out));
}

TEST(SseFraming, FormatsDataAndNamedEvents) {
    std::string out;
    append_sse_data(out, "{}");
    append_sse_event(out, "ping", "{\"type\":\"ping\"}");
    EXPECT_EQ(out, "data: {}\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\n");
}

}  // namespace
}  // namespace switchyard
