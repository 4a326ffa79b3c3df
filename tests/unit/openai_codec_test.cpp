// OpenAI codec: request parsing and validation, pass-through, response and chunk writing,
// upstream response/chunk/error parsing, and that arbitrary bytes never crash the parser.
#include "switchyard/core/openai_codec.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <random>

namespace switchyard {
namespace {

ChatRequest parse_ok(std::string_view body) {
    auto r = parse_openai_chat_request(body);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(r).value() : ChatRequest{};
}

Error parse_err(std::string_view body) {
    auto r = parse_openai_chat_request(body);
    EXPECT_FALSE(r.ok());
    return r.ok() ? Error{} : r.error();
}

TEST(OpenAIRequest, ParsesCoreFields) {
    auto req = parse_ok(R"({"model":"gpt-4-turbo","messages":[
        {"role":"system","content":"Be brief."},
        {"role":"user","content":[{"type":"text","text":"What is this?"},
            {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":"low"}}]},
        {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
            "function":{"name":"look","arguments":"{\"x\":1}"}}]},
        {"role":"tool","tool_call_id":"call_1","content":"a cat"}],
        "stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":64,
        "temperature":0.2,"top_p":0.9,"stop":"END","user":"u-1"})");
    EXPECT_EQ(req.model, "gpt-4-turbo");
    ASSERT_EQ(req.messages.size(), 4u);
    EXPECT_EQ(req.messages[0].role, Role::kSystem);
    EXPECT_EQ(req.messages[0].text, "Be brief.");
    ASSERT_TRUE(req.messages[1].has_parts);
    ASSERT_EQ(req.messages[1].parts.size(), 2u);
    EXPECT_EQ(req.messages[1].parts[1].type, ContentPart::Type::kImage);
    EXPECT_EQ(req.messages[1].parts[1].detail, "low");
    EXPECT_TRUE(req.messages[2].content_null);
    ASSERT_EQ(req.messages[2].tool_calls.size(), 1u);
    EXPECT_EQ(req.messages[2].tool_calls[0].arguments, "{\"x\":1}");
    EXPECT_EQ(req.messages[3].tool_call_id, "call_1");
    EXPECT_TRUE(req.stream);
    EXPECT_TRUE(req.include_usage);
    EXPECT_EQ(req.max_tokens, 64);
    EXPECT_TRUE(req.use_max_completion_tokens);
    EXPECT_EQ(req.stop, std::vector<std::string>{"END"});
    EXPECT_EQ(req.user, "u-1");
    EXPECT_TRUE(req.passthrough.empty());
}

TEST(OpenAIRequest, KeepsUnknownFieldsVerbatimForPassThrough) {
    auto req = parse_ok(R"({"model":"m","messages":[{"role":"user","content":"hi"}],
        "seed": 7, "response_format": {"type":"json_schema","json_schema":{"name":"x"}},
        "logprobs": true, "top_logprobs": 2})");
    ASSERT_EQ(req.passthrough.size(), 4u);
    EXPECT_EQ(req.passthrough[0].key, "seed");
    EXPECT_EQ(req.passthrough[0].value_json, "7");
    EXPECT_EQ(req.passthrough[1].value_json,
              R"({"type":"json_schema","json_schema":{"name":"x"}})");
    const auto out = write_openai_chat_request(req, "upstream-id", false);
    EXPECT_NE(out.find(R"("model":"upstream-id")"), std::string::npos);
    EXPECT_NE(out.find(R"("seed":7)"), std::string::npos);
    EXPECT_NE(out.find(R"("top_logprobs":2)"), std::string::npos);
}

TEST(OpenAIRequest, PassThroughIsDroppedForAnthropicOriginRequests) {
    auto req = parse_ok(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"seed":7})");
    req.format = WireFormat::kAnthropic;
    EXPECT_EQ(write_openai_chat_request(req, "m", false).find("seed"), std::string::npos);
}

TEST(OpenAIRequest, StreamingUpstreamRequestAlwaysAsksForUsage) {
    auto req =
        parse_ok(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true})");
    const auto out = write_openai_chat_request(req, "m", true);
    EXPECT_NE(out.find(R"("stream":true,"stream_options":{"include_usage":true})"),
              std::string::npos);
}

TEST(OpenAIRequest, RoundTripsThroughTheWriter) {
    const std::string body =
        R"({"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","content":"r","tool_call_id":"c"}],"max_tokens":5,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"},"strict":true}}],"tool_choice":"required"})";
    auto req = parse_ok(body);
    const auto out = write_openai_chat_request(req, "m", false);
    auto again = parse_ok(out);
    EXPECT_EQ(again.messages.size(), 3u);
    EXPECT_EQ(again.tools.size(), 1u);
    EXPECT_EQ(again.tools[0].openai_json, req.tools[0].openai_json);  // `strict` survives
    EXPECT_EQ(again.tool_choice_json, "\"required\"");
    EXPECT_EQ(write_openai_chat_request(again, "m", false), out);
}

TEST(OpenAIRequest, ErrorsNameTheField) {
    EXPECT_EQ(parse_err(R"({"messages":[{"role":"user","content":"x"}]})").param, "model");
    EXPECT_EQ(parse_err(R"({"model":"m"})").param, "messages");
    EXPECT_EQ(parse_err(R"({"model":"m","messages":[{"role":"user"}]})").param,
              "messages[0].content");
    EXPECT_EQ(parse_err(R"({"model":"m","messages":[{"role":"user","content":[{"type":"text"}]}]})")
                  .param,
              "messages[0].content[0].text");
    EXPECT_EQ(parse_err(R"({"model":3,"messages":[]})").param, "model");
    EXPECT_EQ(
        parse_err(R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":1.5})")
            .param,
        "max_tokens");
    EXPECT_EQ(parse_err("[]").kind, ErrorKind::kInvalidRequest);
    EXPECT_NE(parse_err("{\"model\":\"\xff\"}").message.find("UTF-8"), std::string::npos);
}

TEST(OpenAIRequest, ArbitraryBytesAndTruncationsNeverCrash) {
    const std::string valid =
        R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"tools":[{"type":"function","function":{"name":"f"}}],"stop":["a"]})";
    for (size_t n = 0; n < valid.size(); ++n) {
        (void)parse_openai_chat_request(valid.substr(0, n));
    }
    std::mt19937 rng(1234);
    for (int i = 0; i < 2000; ++i) {
        std::string s = valid;
        for (int k = 0; k < 3; ++k)
            s[rng() % s.size()] = static_cast<char>(rng() % 256);
        (void)parse_openai_chat_request(s);
    }
    SUCCEED();
}

TEST(OpenAIResponse, WritesTheExactChatCompletionShape) {
    ChatResponse r;
    r.id = "chatcmpl-1";
    r.created = 1700000000;
    r.model = "gpt-4-turbo";
    r.message.text = "Hi!";
    r.usage = Usage{3, 2, 0};
    EXPECT_EQ(
        write_openai_chat_response(r),
        R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4-turbo","choices":[{"index":0,"message":{"role":"assistant","content":"Hi!","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}})");
}

TEST(OpenAIResponse, ParsesUpstreamAnswerWithToolCallsAndCachedTokens) {
    auto r = parse_openai_chat_response(R"({"id":"x","object":"chat.completion","created":5,
        "model":"gpt-4-turbo-2024-04-09","system_fingerprint":"fp_1","choices":[{"index":0,
        "message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_9","type":"function",
        "function":{"name":"get","arguments":"{\"q\":\"x\"}"}}]},"finish_reason":"tool_calls"}],
        "usage":{"prompt_tokens":10,"completion_tokens":4,"total_tokens":14,
        "prompt_tokens_details":{"cached_tokens":6}}})");
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->message.content_null);
    EXPECT_EQ(r->message.tool_calls[0].name, "get");
    EXPECT_EQ(r->finish_reason, FinishReason::kToolCalls);
    EXPECT_EQ(r->usage->cached_prompt_tokens, 6);
    EXPECT_EQ(r->system_fingerprint, "fp_1");
    EXPECT_FALSE(parse_openai_chat_response(R"({"choices":[]})").ok());
    EXPECT_EQ(parse_openai_chat_response("not json").error().kind, ErrorKind::kUpstream);
}

TEST(OpenAIChunks, WritesRoleContentFinishAndUsageChunks) {
    StreamMeta meta{"chatcmpl-9", 7, "m", ""};
    std::string out;
    ChatChunk role;
    role.role = true;
    append_openai_chunk_sse(out, meta, role, true);
    EXPECT_EQ(
        out,
        R"(data: {"id":"chatcmpl-9","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null})"
        "\n\n");
    out.clear();
    ChatChunk usage;
    usage.usage = Usage{1, 2, 0};
    append_openai_chunk_sse(out, meta, usage, true);
    EXPECT_EQ(
        out,
        R"(data: {"id":"chatcmpl-9","object":"chat.completion.chunk","created":7,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}})"
        "\n\n");
}

TEST(OpenAIChunks, ParsesDeltasToolCallsAndErrors) {
    StreamMeta meta;
    auto c = parse_openai_chunk(
        R"({"id":"a","created":3,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call","type":"function","function":{"name":"f","arguments":"{\""}}]},"finish_reason":null}]})",
        meta);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(meta.id, "a");
    ASSERT_EQ(c->tool_calls.size(), 1u);
    EXPECT_EQ(c->tool_calls[0].index, 1);
    EXPECT_EQ(c->tool_calls[0].arguments, "{\"");
    auto u = parse_openai_chunk(
        R"({"id":"a","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":5}})", meta);
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->usage->completion_tokens, 5);
    auto e = parse_openai_chunk(R"({"error":{"message":"boom","type":"server_error"}})", meta);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error().message, "boom");
}

TEST(OpenAIErrors, MapsUpstreamStatuses) {
    auto e = parse_openai_error(
        429, R"({"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}})");
    EXPECT_EQ(e.kind, ErrorKind::kRateLimited);
    EXPECT_EQ(e.message, "slow down");
    EXPECT_EQ(parse_openai_error(401, "{}").kind, ErrorKind::kUpstream);  // our key, not theirs
    EXPECT_EQ(parse_openai_error(503, "").kind, ErrorKind::kUnavailable);
    EXPECT_EQ(parse_openai_error(500, "<html>").kind, ErrorKind::kUpstream);
    EXPECT_EQ(parse_openai_error(400, R"({"error":"ollama says no"})").message, "ollama says no");
    EXPECT_EQ(http_status(ErrorKind::kModelNotFound), 404);
}

TEST(OpenAIEmbeddings, ParsesInputsAndForwardsThemVerbatim) {
    auto r = parse_openai_embedding_request(
        R"({"model":"e","input":["a","b"],"dimensions":8,"encoding_format":"base64"})");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->inputs.size(), 2u);
    EXPECT_EQ(write_openai_embedding_request(*r, "up"),
              R"({"model":"up","input":["a","b"],"dimensions":8,"encoding_format":"base64"})");
    EXPECT_FALSE(parse_openai_embedding_request(R"({"model":"e","input":[]})").ok());
    EXPECT_FALSE(parse_openai_embedding_request(R"({"model":"e","input":{}})").ok());
    EXPECT_TRUE(
        parse_openai_embedding_request(R"({"model":"e","input":[[1,2,3]]})")->input_is_tokens);
}

}  // namespace
}  // namespace switchyard

namespace switchyard {
namespace {

TEST(OpenAIRequest, VerbatimPartsOnlyReachProvidersOfTheSameFormat) {
    auto req = parse_ok(R"({"model":"m","messages":[{"role":"user","content":[
        {"type":"text","text":"listen"},{"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}]}]})");
    EXPECT_NE(write_openai_chat_request(req, "m", false).find("input_audio"), std::string::npos);
    req.format = WireFormat::kAnthropic;  // e.g. an Anthropic document block kept verbatim
    EXPECT_EQ(write_openai_chat_request(req, "m", false).find("input_audio"), std::string::npos);
}

}  // namespace
}  // namespace switchyard
