// Anthropic codec, unit tests for what golden files cannot express: invalid UTF-8, deep
// nesting, large bodies, fuzzing (truncations and mutations of every golden case), random
// encoder round trips, and edge cases of the stream state machines.
#include <random>

#include "anthropic_golden.hpp"

namespace switchyard {
namespace {

using namespace anthropic_golden;

TEST(AnthropicRequest, InvalidUtf8IsNamed) {
    auto parsed = parse_anthropic_request(
        "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]"
        "}");
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().kind, ErrorKind::kInvalidRequest);
    EXPECT_EQ(parsed.error().message, "request body is not valid UTF-8");
}

TEST(AnthropicRequest, DeepNestingIsAnErrorNotACrash) {
    std::string body = R"({"model":"m","max_tokens":5,"messages":)";
    body += std::string(100000, '[') + std::string(100000, ']') + "}";
    auto parsed = parse_anthropic_request(body);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().message, "request body is nested too deeply");
}

TEST(AnthropicRequest, LargeBodyUsesItsOwnParser) {
    const std::string big(3 << 20, 'x');
    const std::string body =
        R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":")" + big + "\"}]}";
    auto parsed = parse_anthropic_request(body);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed->messages.at(0).text.size(), big.size());
    // The per-thread parser still works for small bodies afterwards.
    auto small = parse_anthropic_request(
        R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]})");
    ASSERT_TRUE(small.ok());
    EXPECT_EQ(small->messages.at(0).text, "hi");
}

TEST(AnthropicRequest, ManyBlocksParse) {
    std::string body = R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[)";
    constexpr int kBlocks = 100000;
    for (int i = 0; i < kBlocks; ++i) {
        if (i) body += ',';
        body += R"({"type":"text","text":"a"})";
    }
    body += "]}]}";
    auto parsed = parse_anthropic_request(body);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed->messages.at(0).parts.size(), size_t{kBlocks});
}

// Every golden body, truncated anywhere or with random bytes flipped, gives a value or an
// error: never a crash (run under ASan/UBSan to make this bite).
TEST(AnthropicFuzz, TruncatedAndMutatedBodies) {
    std::vector<std::string> bodies;
    for (const auto& name : list_cases(kRequests, ".anthropic.json")) {
        bodies.push_back(read_file(kRequests / (name + ".anthropic.json")));
    }
    for (const auto& name : list_cases(kResponses, ".anthropic.json")) {
        bodies.push_back(read_file(kResponses / (name + ".anthropic.json")));
    }
    ASSERT_FALSE(bodies.empty());
    std::mt19937 rng(1234);
    for (std::string& body : bodies) {
        while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) {
            body.pop_back();
        }
        for (size_t n = 0; n < body.size(); ++n) {
            const std::string_view prefix(body.data(), n);
            // A strict prefix of a JSON object is never valid JSON.
            EXPECT_FALSE(parse_anthropic_request(prefix).ok());
            EXPECT_FALSE(parse_anthropic_response(prefix).ok());
            (void)parse_anthropic_error(500, prefix);
        }
        for (int round = 0; round < 200; ++round) {
            std::string mutated = body;
            for (int k = 0; k < 3; ++k) {
                mutated[rng() % mutated.size()] = static_cast<char>(rng() & 0xFF);
            }
            auto req = parse_anthropic_request(mutated);
            if (req.ok()) {
                const std::string out = write_anthropic_request(*req, "m", 100, true);
                EXPECT_THAT(canonical(out), ::testing::Not(HasSubstr("<invalid JSON"))) << out;
            }
            auto resp = parse_anthropic_response(mutated);
            if (resp.ok()) {
                const std::string out = write_anthropic_response(*resp);
                EXPECT_THAT(canonical(out), ::testing::Not(HasSubstr("<invalid JSON"))) << out;
            }
            AnthropicStreamDecoder decoder;
            StreamMeta meta;
            std::vector<ChatChunk> chunks;
            (void)decoder.on_event("content_block_delta", mutated, meta, chunks);
        }
    }
    for (int round = 0; round < 2000; ++round) {
        std::string random(rng() % 64, '\0');
        for (char& c : random)
            c = static_cast<char>(rng() & 0xFF);
        EXPECT_FALSE(parse_anthropic_request(random).ok());
        (void)parse_anthropic_response(random);
        (void)parse_anthropic_error(400, random);
    }
}

// Stream transcripts with bytes flipped: the decoder returns chunks or an Error, never
// crashes, and never reports done() without having seen message_stop's usage chunk.
TEST(AnthropicFuzz, MutatedStreamTranscripts) {
    std::mt19937 rng(99);
    for (const auto& name : list_cases(kStreams, ".sse", "decode_")) {
        const std::string sse = read_file(kStreams / (name + ".sse"));
        for (int round = 0; round < 300; ++round) {
            std::string mutated = sse;
            for (int k = 0; k < 4; ++k) {
                mutated[rng() % mutated.size()] = static_cast<char>(rng() & 0xFF);
            }
            SseParser parser;
            std::vector<SseEvent> events;
            (void)parser.feed(mutated, events);
            AnthropicStreamDecoder decoder;
            StreamMeta meta;
            std::vector<ChatChunk> chunks;
            for (const SseEvent& ev : events) {
                if (!decoder.on_event(ev.event, ev.data, meta, chunks).ok()) break;
            }
            if (decoder.done()) {
                ASSERT_FALSE(chunks.empty());
                EXPECT_TRUE(chunks.back().usage.has_value());
            }
        }
    }
}

// Random OpenAI-style chunk streams (text and tool calls in index order, arbitrary UTF-8,
// quotes and control characters): every event the encoder writes is valid JSON, blocks
// open and close in order, and decoding gives back the same text, calls and arguments.
TEST(AnthropicStreamEncoder, RandomStreamsRoundTrip) {
    std::mt19937 rng(7);
    const std::vector<std::string> alphabet = {"a",    "Z", " ", "\"", "\\", "\n", "\t",
                                               "\x01", "é", "✓", "😀",  "{",  "}",  ":"};
    auto random_text = [&](size_t max_len) {
        std::string s;
        for (size_t n = rng() % (max_len + 1); n > 0; --n)
            s += alphabet[rng() % alphabet.size()];
        return s;
    };
    for (int round = 0; round < 300; ++round) {
        std::vector<ChatChunk> chunks(1);
        chunks[0].role = true;
        std::string text, calls;
        int next_tool = 0;
        for (int seg = rng() % 6; seg > 0; --seg) {
            if (rng() % 2) {
                for (int k = 1 + rng() % 3; k > 0; --k) {
                    ChatChunk c;
                    c.content = random_text(8);
                    text += c.content;
                    chunks.push_back(c);
                }
            } else {
                const int index = next_tool++;
                ChatChunk first;
                first.tool_calls.push_back(
                    {index, "call_" + std::to_string(round) + "_" + std::to_string(index),
                     "fn" + std::to_string(index), random_text(4)});
                calls += first.tool_calls[0].id + "|" + first.tool_calls[0].name + "|" +
                         first.tool_calls[0].arguments;
                chunks.push_back(first);
                for (int k = rng() % 3; k > 0; --k) {
                    ChatChunk c;
                    c.tool_calls.push_back({index, "", "", random_text(6)});
                    calls += c.tool_calls[0].arguments;
                    chunks.push_back(c);
                }
                calls += ";";
            }
        }
        ChatChunk last;
        last.finish_reason = next_tool > 0 ? FinishReason::kToolCalls : FinishReason::kStop;
        chunks.push_back(last);

        AnthropicStreamEncoder encoder;
        std::string out;
        encoder.begin(StreamMeta{"r" + std::to_string(round), 0, "m", ""}, 1, out);
        for (const ChatChunk& c : chunks)
            encoder.on_chunk(c, out);
        encoder.finish(out);

        SseParser parser;
        std::vector<SseEvent> events;
        ASSERT_TRUE(parser.feed(out, events));
        dom::parser json;
        int open = -1, last_index = -1;
        for (const SseEvent& ev : events) {
            dom::element root;
            ASSERT_EQ(json.parse(ev.data).get(root), simdjson::SUCCESS) << ev.data;
            ASSERT_EQ(std::string_view(root["type"]), ev.event);
            if (ev.event == "content_block_start") {
                ASSERT_EQ(open, -1);
                open = static_cast<int>(int64_t(root["index"]));
                ASSERT_EQ(open, last_index + 1);
                last_index = open;
            } else if (ev.event == "content_block_delta") {
                ASSERT_EQ(int64_t(root["index"]), open);
            } else if (ev.event == "content_block_stop") {
                ASSERT_EQ(int64_t(root["index"]), open);
                open = -1;
            }
        }
        ASSERT_EQ(open, -1);

        AnthropicStreamDecoder decoder;
        StreamMeta meta;
        std::vector<ChatChunk> decoded;
        for (const SseEvent& ev : events) {
            ASSERT_TRUE(decoder.on_event(ev.event, ev.data, meta, decoded).ok());
        }
        ASSERT_TRUE(decoder.done());
        EXPECT_EQ(meta.id, "msg_r" + std::to_string(round));
        std::string got_text, got_calls;
        for (const ChatChunk& c : decoded) {
            got_text += c.content;
            for (const ToolCallDelta& d : c.tool_calls) {
                if (!d.id.empty()) {
                    if (!got_calls.empty()) got_calls += ";";
                    got_calls += d.id + "|" + d.name + "|";
                }
                got_calls += d.arguments;
            }
        }
        if (!got_calls.empty()) got_calls += ";";
        EXPECT_EQ(got_text, text);
        EXPECT_EQ(got_calls, calls);
    }
}

TEST(AnthropicStreamEncoder, MessageStartWaitsForTheFirstChunk) {
    AnthropicStreamEncoder encoder;
    std::string out;
    encoder.begin(StreamMeta{"msg_1", 0, "m", ""}, 0, out);
    EXPECT_EQ(out, "");
    Error e;
    e.kind = ErrorKind::kUnavailable;
    e.message = "down";
    encoder.fail(e, out);  // nothing started: the error event stands alone
    EXPECT_EQ(out,
              "event: error\ndata: "
              R"({"type":"error","error":{"type":"overloaded_error","message":"down"}})"
              "\n\n");
}

TEST(AnthropicStreamEncoder, FragmentOfAClosedCallIsDropped) {
    AnthropicStreamEncoder encoder;
    std::string out;
    encoder.begin(StreamMeta{"msg_1", 0, "m", ""}, 0, out);
    ChatChunk call;
    call.tool_calls.push_back({0, "call_1", "f", "{}"});
    encoder.on_chunk(call, out);
    ChatChunk text;
    text.content = "after";
    encoder.on_chunk(text, out);
    ChatChunk stray;
    stray.tool_calls.push_back({0, "", "", "late"});
    encoder.on_chunk(stray, out);
    encoder.finish(out);
    EXPECT_THAT(out, ::testing::Not(HasSubstr("late")));
    EXPECT_THAT(out, HasSubstr(R"("stop_reason":"end_turn")"));
}

TEST(AnthropicStreamDecoder, ContentBeforeMessageStartStillCarriesTheRole) {
    AnthropicStreamDecoder decoder;
    StreamMeta meta;
    std::vector<ChatChunk> chunks;
    ASSERT_TRUE(decoder
                    .on_event("content_block_delta",
                              R"({"type":"content_block_delta","index":0,)"
                              R"("delta":{"type":"text_delta","text":"hi"}})",
                              meta, chunks)
                    .ok());
    ASSERT_EQ(chunks.size(), 1u);
    EXPECT_TRUE(chunks[0].role);
    EXPECT_EQ(chunks[0].content, "hi");
}

TEST(AnthropicStreamDecoder, MalformedJsonIsAnUpstreamError) {
    AnthropicStreamDecoder decoder;
    StreamMeta meta;
    std::vector<ChatChunk> chunks;
    Status s =
        decoder.on_event("content_block_delta", R"({"type":"content_block_delta",)", meta, chunks);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().kind, ErrorKind::kUpstream);
    EXPECT_THAT(s.error().message,
                HasSubstr("malformed Anthropic stream event 'content_block_delta'"));
    EXPECT_THAT(s.error().message, HasSubstr("not valid JSON"));
}

TEST(AnthropicStreamDecoder, HugeBlockIndexIsRejected) {
    AnthropicStreamDecoder decoder;
    StreamMeta meta;
    std::vector<ChatChunk> chunks;
    Status s = decoder.on_event(
        "content_block_start",
        R"({"type":"content_block_start","index":4000000000,"content_block":{"type":"text","text":""}})",
        meta, chunks);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().kind, ErrorKind::kUpstream);
}

TEST(AnthropicStreamDecoder, EventsAfterStopAreIgnored) {
    AnthropicStreamDecoder decoder;
    StreamMeta meta;
    std::vector<ChatChunk> chunks;
    ASSERT_TRUE(decoder.on_event("message_stop", R"({"type":"message_stop"})", meta, chunks).ok());
    EXPECT_TRUE(decoder.done());
    ASSERT_TRUE(decoder.on_event("error", "not even json", meta, chunks).ok());
    ASSERT_EQ(chunks.size(), 1u);
    EXPECT_FALSE(chunks[0].role);  // the usage-only chunk never carries the role
    EXPECT_TRUE(chunks[0].usage.has_value());
}

TEST(AnthropicStreamEncoder, NothingAfterFinish) {
    AnthropicStreamEncoder encoder;
    std::string out;
    encoder.begin(StreamMeta{"msg_1", 0, "m", ""}, 3, out);
    encoder.finish(out);
    const std::string finished = out;
    ChatChunk chunk;
    chunk.content = "late";
    encoder.on_chunk(chunk, out);
    encoder.finish(out);
    encoder.fail(Error::internal("late"), out);
    EXPECT_EQ(out, finished);
    EXPECT_THAT(out, HasSubstr(R"("stop_reason":"end_turn")"));
}

TEST(AnthropicOutbound, UpstreamModelDefaultMaxTokensAndStreamFlag) {
    ChatRequest r;
    r.model = "alias";
    Message m;
    m.text = "hi";
    r.messages.push_back(m);
    const std::string body = write_anthropic_request(r, "claude-x", 321, false);
    EXPECT_EQ(
        body,
        R"({"model":"claude-x","max_tokens":321,"messages":[{"role":"user","content":"hi"}]})");
    r.max_tokens = 7;
    r.stream = false;
    EXPECT_THAT(write_anthropic_request(r, "claude-x", 321, true), HasSubstr(R"("max_tokens":7,)"));
    EXPECT_THAT(write_anthropic_request(r, "claude-x", 321, true), HasSubstr(R"("stream":true)"));
}

TEST(AnthropicOutbound, ToolArgumentsThatAreNotAnObjectBecomeEmptyInput) {
    for (const char* args : {"", "not json", "[1,2]", "{\"a\":", "42"}) {
        SCOPED_TRACE(args);
        ChatRequest r;
        Message u;
        u.text = "q";
        Message a;
        a.role = Role::kAssistant;
        a.content_null = true;
        a.tool_calls.push_back({"call_1", "f", args});
        r.messages = {u, a};
        EXPECT_THAT(write_anthropic_request(r, "m", 10, false),
                    HasSubstr(R"({"type":"tool_use","id":"call_1","name":"f","input":{}})"));
    }
}

TEST(AnthropicOutbound, PassthroughOnlyForAnthropicOrigin) {
    ChatRequest r;
    Message m;
    m.text = "hi";
    r.messages.push_back(m);
    r.passthrough.push_back({"top_k", "5"});
    r.format = WireFormat::kOpenAI;
    EXPECT_THAT(write_anthropic_request(r, "m", 10, false), ::testing::Not(HasSubstr("top_k")));
    r.format = WireFormat::kAnthropic;
    EXPECT_THAT(write_anthropic_request(r, "m", 10, false), HasSubstr(R"("top_k":5)"));
}

TEST(AnthropicResponse, ErrorBodyWithStatus200IsAnError) {
    auto parsed = parse_anthropic_response(
        R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().kind, ErrorKind::kUnavailable);
    EXPECT_EQ(parsed.error().message, "Overloaded");
}

TEST(AnthropicResponse, MessageIdPrefix) {
    ChatResponse r;
    r.id = "chatcmpl-9";
    EXPECT_THAT(write_anthropic_response(r), HasSubstr(R"("id":"msg_chatcmpl-9")"));
    r.id = "msg_abc";
    EXPECT_THAT(write_anthropic_response(r), HasSubstr(R"("id":"msg_abc")"));
}

}  // namespace
}  // namespace switchyard

namespace switchyard {
namespace {

TEST(AnthropicInbound, SystemTurnsInsideMessagesBecomeSystemMessages) {
    auto req = parse_anthropic_request(
        R"({"model":"m","max_tokens":5,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]})");
    ASSERT_TRUE(req.ok()) << req.error().message;
    ASSERT_EQ(req->messages.size(), 2u);
    EXPECT_EQ(req->messages[0].role, Role::kSystem);
    EXPECT_EQ(req->messages[0].joined_text(), "be brief");
    // ... and an Anthropic upstream gets it lifted into `system`.
    const auto out = write_anthropic_request(*req, "up", 100, false);
    EXPECT_NE(out.find(R"("system":"be brief")"), std::string::npos) << out;
}

}  // namespace
}  // namespace switchyard
