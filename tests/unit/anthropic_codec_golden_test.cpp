// Anthropic codec, data-driven: golden files in tests/golden/anthropic/ (see README.md
// there) for requests both ways, responses, upstream errors and streams both ways.
// Golden JSON is compared semantically (parsed and re-printed with sorted keys).
#include "anthropic_golden.hpp"

namespace switchyard {
namespace {

using namespace anthropic_golden;

// ---- requests ----

class RequestInbound : public ::testing::TestWithParam<std::string> {};

// NAME.anthropic.json (a client's body) parses to NAME.openai.json.
TEST_P(RequestInbound, ParsesToInternal) {
    const std::string body = read_file(kRequests / (GetParam() + ".anthropic.json"));
    auto parsed = parse_anthropic_request(body);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(canonical(dump_request(*parsed)),
              canonical(read_file(kRequests / (GetParam() + ".openai.json"))));
}

INSTANTIATE_TEST_SUITE_P(Golden, RequestInbound,
                         ::testing::ValuesIn(list_cases(kRequests, ".anthropic.json")), case_name);

class RequestOutbound : public ::testing::TestWithParam<std::string> {};

// NAME.openai.json written for an Anthropic upstream gives NAME.upstream.json (or, for
// faithful round trips, NAME.anthropic.json). The upstream model is the expected file's.
TEST_P(RequestOutbound, WritesUpstreamBody) {
    const ChatRequest request = load_request(read_file(kRequests / (GetParam() + ".openai.json")));
    const std::string expected = read_file(first_existing(
        kRequests / (GetParam() + ".upstream.json"), kRequests / (GetParam() + ".anthropic.json")));
    const std::string body =
        write_anthropic_request(request, model_of(expected), kDefaultMaxTokens, request.stream);
    EXPECT_EQ(canonical(body), canonical(expected));
}

INSTANTIATE_TEST_SUITE_P(Golden, RequestOutbound,
                         ::testing::ValuesIn(list_cases(kRequests, ".openai.json")), case_name);

// invalid_requests.json: bodies the gateway must refuse, with Anthropic-style messages.
TEST(AnthropicRequest, InvalidRequestsGolden) {
    const std::string cases = read_file(kGolden / "invalid_requests.json");
    dom::parser parser;
    dom::array arr(parser.parse(cases));
    ASSERT_GT(arr.size(), 10u);
    for (dom::element c : arr) {
        const std::string name{std::string_view(c["name"])};
        SCOPED_TRACE(name);
        auto parsed = parse_anthropic_request(std::string_view(c["body"]));
        ASSERT_FALSE(parsed.ok());
        EXPECT_EQ(parsed.error().kind, ErrorKind::kInvalidRequest);
        std::string_view s;
        if (c["message"].get(s) == simdjson::SUCCESS) {
            EXPECT_EQ(parsed.error().message, s);
        }
        if (c["message_prefix"].get(s) == simdjson::SUCCESS) {
            EXPECT_TRUE(parsed.error().message.starts_with(s)) << parsed.error().message;
        }
        if (c["param"].get(s) == simdjson::SUCCESS) {
            EXPECT_EQ(parsed.error().param, s);
        }
    }
}

// ---- responses ----

class ResponseInbound : public ::testing::TestWithParam<std::string> {};

// NAME.anthropic.json (an upstream's body) parses to NAME.openai.json.
TEST_P(ResponseInbound, ParsesToInternal) {
    const std::string body = read_file(kResponses / (GetParam() + ".anthropic.json"));
    auto parsed = parse_anthropic_response(body);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_GT(parsed->created, 1700000000);
    EXPECT_EQ(canonical(dump_response(*parsed)),
              canonical(read_file(kResponses / (GetParam() + ".openai.json"))));
}

INSTANTIATE_TEST_SUITE_P(Golden, ResponseInbound,
                         ::testing::ValuesIn(list_cases(kResponses, ".anthropic.json")), case_name);

class ResponseOutbound : public ::testing::TestWithParam<std::string> {};

// NAME.openai.json written for an Anthropic client gives NAME.client.json (or, for faithful
// round trips, NAME.anthropic.json).
TEST_P(ResponseOutbound, WritesClientBody) {
    const ChatResponse response =
        load_response(read_file(kResponses / (GetParam() + ".openai.json")));
    const std::string expected = read_file(first_existing(
        kResponses / (GetParam() + ".client.json"), kResponses / (GetParam() + ".anthropic.json")));
    EXPECT_EQ(canonical(write_anthropic_response(response)), canonical(expected));
}

INSTANTIATE_TEST_SUITE_P(Golden, ResponseOutbound,
                         ::testing::ValuesIn(list_cases(kResponses, ".openai.json")), case_name);

// upstream_errors.json: status + body -> Error.
TEST(AnthropicError, UpstreamErrorsGolden) {
    const std::string cases = read_file(kGolden / "upstream_errors.json");
    dom::parser parser;
    dom::array arr(parser.parse(cases));
    ASSERT_GT(arr.size(), 5u);
    for (dom::element c : arr) {
        const std::string name{std::string_view(c["name"])};
        SCOPED_TRACE(name);
        const int status = static_cast<int>(int64_t(c["status"]));
        const Error e = parse_anthropic_error(status, std::string_view(c["body"]));
        EXPECT_EQ(kind_name(e.kind), std::string_view(c["kind"]));
        EXPECT_EQ(e.message, std::string_view(c["message"]));
        EXPECT_EQ(e.upstream_status, status);
        std::string_view code;
        EXPECT_EQ(e.code, c["code"].get(code) == simdjson::SUCCESS ? code : "");
    }
}

// ---- streams ----
// ---- streams ----

class StreamDecode : public ::testing::TestWithParam<std::string> {};

// decode_NAME.sse (an upstream's stream) decodes to decode_NAME.json.
TEST_P(StreamDecode, DecodesToChunks) {
    const std::string sse = read_file(kStreams / (GetParam() + ".sse"));
    const std::string expected = canonical(read_file(kStreams / (GetParam() + ".json")));
    for (size_t piece : {size_t{1}, size_t{7}, sse.size()}) {
        SCOPED_TRACE("piece size " + std::to_string(piece));
        EXPECT_EQ(canonical(decode_transcript(sse, piece)), expected);
    }
}

INSTANTIATE_TEST_SUITE_P(Golden, StreamDecode,
                         ::testing::ValuesIn(list_cases(kStreams, ".sse", "decode_")), case_name);

class StreamEncode : public ::testing::TestWithParam<std::string> {};

// encode_NAME.json (chunks from any upstream) gives exactly encode_NAME.sse.
TEST_P(StreamEncode, EncodesExactEvents) {
    const EncoderInput in = load_encoder_input(read_file(kStreams / (GetParam() + ".json")));
    EXPECT_EQ(encode(in), read_file(kStreams / (GetParam() + ".sse")));
}

// Decoding what the encoder produced gives back the same text and tool calls.
TEST_P(StreamEncode, DecoderReadsEncoderOutput) {
    const EncoderInput in = load_encoder_input(read_file(kStreams / (GetParam() + ".json")));
    const std::string decoded = decode_transcript(encode(in), 5);
    std::string text, args;
    for (const ChatChunk& c : in.chunks) {
        text += c.content;
        for (const ToolCallDelta& d : c.tool_calls)
            args += d.arguments;
    }
    dom::parser parser;
    dom::element root = parser.parse(decoded);
    std::string got_text, got_args;
    for (dom::element c : dom::array(root["chunks"])) {
        std::string_view s;
        if (c["content"].get(s) == simdjson::SUCCESS) got_text += s;
        dom::array calls;
        if (c["tool_calls"].get(calls) == simdjson::SUCCESS) {
            for (dom::element d : calls) {
                if (d["arguments"].get(s) == simdjson::SUCCESS) got_args += s;
            }
        }
    }
    EXPECT_EQ(got_text, text);
    EXPECT_EQ(got_args, args);
    EXPECT_EQ(bool(root["done"]), !in.fail.has_value());
}

INSTANTIATE_TEST_SUITE_P(Golden, StreamEncode,
                         ::testing::ValuesIn(list_cases(kStreams, ".json", "encode_")), case_name);

}  // namespace
}  // namespace switchyard
