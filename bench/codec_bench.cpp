// Micro-benchmarks for the request hot path: the OpenAI and Anthropic codecs and the SSE
// parser, on bodies shaped like real traffic (a small chat turn, an ~8 KB conversation with
// a system prompt, history and tools, a realistic upstream chunk stream).
// Every benchmark reports bytes/s over the wire bytes it reads or writes.
//
//   ninja -C build codec_bench && build/bench/codec_bench
//   build/bench/codec_bench --benchmark_filter=Parse --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/anthropic_codec.hpp"
#include "switchyard/core/openai_codec.hpp"
#include "switchyard/core/sse.hpp"

namespace {

using namespace switchyard;

// ------------------------------------------------------------------ fixtures

// What an SDK sends for a one-line question.
const std::string kSmallOpenAI =
    R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},)"
    R"({"role":"user","content":"What is the capital of France? Answer in one word."}],)"
    R"("temperature":0.2,"max_tokens":64})";

const std::string kSmallAnthropic =
    R"({"model":"claude-3-5-sonnet-20241022","max_tokens":64,"system":"You are a helpful assistant.",)"
    R"("messages":[{"role":"user","content":"What is the capital of France? Answer in one word."}],)"
    R"("temperature":0.2})";

// Prose with quotes, newlines and a little non-ASCII, so string escaping is exercised.
std::string prose(size_t bytes, int seed) {
    static const char* kWords[] = {
        "the",    "gateway",  "routes",   "each",     "request", "to",        "a",
        "model,", "and",      "caches",   "answers;", "it",      "says",      "\"hello\"",
        "while",  "counting", "tokens",   "café",     "naïve",   "latency",   "budget",
        "stream", "chunk",    "upstream", "provider", "retry",   "breaker.\n"};
    constexpr size_t n = sizeof kWords / sizeof kWords[0];
    std::string out;
    uint32_t x = static_cast<uint32_t>(seed) * 2654435761u + 1;
    while (out.size() < bytes) {
        x = x * 1664525u + 1013904223u;
        if (!out.empty()) out.push_back(' ');
        out.append(kWords[(x >> 16) % n]);
    }
    return out;
}

std::string json_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
}

const char* kToolsOpenAI =
    R"([{"type":"function","function":{"name":"get_weather","description":"Current weather for a city",)"
    R"("parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string",)"
    R"("enum":["c","f"]}},"required":["city"]}}},{"type":"function","function":{"name":"search_docs",)"
    R"("description":"Search the knowledge base","parameters":{"type":"object","properties":)"
    R"({"query":{"type":"string"},"k":{"type":"integer"}},"required":["query"]}}}])";

// A multi-turn conversation of about `target` bytes: system prompt, history, a tool call
// and its result, two tool definitions, and the usual sampling parameters.
std::string large_openai(size_t target) {
    std::string b = R"({"model":"gpt-4o","messages":[{"role":"system","content":")" +
                    json_escape(prose(1200, 1)) + R"("})";
    int turn = 0;
    b += R"(,{"role":"user","content":"What's the weather in Paris?"})";
    b +=
        R"(,{"role":"assistant","content":null,"tool_calls":[{"id":"call_abc123","type":"function",)"
        R"("function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"c\"}"}}]})";
    b +=
        R"(,{"role":"tool","tool_call_id":"call_abc123","content":"{\"temp\":18,\"sky\":\"clear\"}"})";
    while (b.size() < target - 700) {
        ++turn;
        b += R"(,{"role":")";
        b += (turn % 2) ? "user" : "assistant";
        b += R"(","content":")" + json_escape(prose(600, turn + 7)) + R"("})";
    }
    b += R"(,{"role":"user","content":[{"type":"text","text":"Summarise the above."}]}])";
    b += R"(,"tools":)";
    b += kToolsOpenAI;
    b += R"(,"tool_choice":"auto","temperature":0.7,"top_p":0.95,"max_tokens":1024,)"
         R"("stop":["\n\nUser:"],"user":"user-1234","seed":42,"stream":false})";
    return b;
}

std::string large_anthropic(size_t target) {
    std::string b = R"({"model":"claude-3-5-sonnet-20241022","max_tokens":1024,"system":")" +
                    json_escape(prose(1200, 1)) + R"(","messages":[)";
    b += R"({"role":"user","content":"What's the weather in Paris?"})";
    b +=
        R"(,{"role":"assistant","content":[{"type":"tool_use","id":"toolu_01","name":"get_weather",)"
        R"("input":{"city":"Paris","unit":"c"}}]})";
    b += R"(,{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01",)"
         R"("content":"{\"temp\":18,\"sky\":\"clear\"}"}]})";
    int turn = 0;
    while (b.size() < target - 600) {
        ++turn;
        b += R"(,{"role":")";
        b += (turn % 2) ? "assistant" : "user";
        b += R"(","content":[{"type":"text","text":")" + json_escape(prose(600, turn + 7)) +
             R"("}]})";
    }
    if (turn % 2 == 0) b += R"(,{"role":"assistant","content":"Noted."})";
    b += R"(,{"role":"user","content":"Summarise the above."}])";
    b +=
        R"(,"tools":[{"name":"get_weather","description":"Current weather for a city",)"
        R"("input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}])";
    b += R"(,"temperature":0.7,"top_p":0.95,"stop_sequences":["\n\nHuman:"],)"
         R"("metadata":{"user_id":"user-1234"}})";
    return b;
}

ChatRequest must_parse_openai(const std::string& body) {
    auto r = parse_openai_chat_request(body);
    if (!r) {
        std::fprintf(stderr, "fixture does not parse: %s\n", r.error().message.c_str());
        std::abort();
    }
    return std::move(r).value();
}

ChatRequest must_parse_anthropic(const std::string& body) {
    auto r = parse_anthropic_request(body);
    if (!r) {
        std::fprintf(stderr, "fixture does not parse: %s\n", r.error().message.c_str());
        std::abort();
    }
    return std::move(r).value();
}

const std::string& large_openai_body() {
    static const std::string b = large_openai(8 * 1024);
    return b;
}
const std::string& large_anthropic_body() {
    static const std::string b = large_anthropic(8 * 1024);
    return b;
}

ChatResponse sample_response(size_t text_bytes) {
    ChatResponse r;
    r.id = "chatcmpl-9d8f7a6b5c4d3e2f1a0b9c8d";
    r.created = 1732540000;
    r.model = "gpt-4o";
    r.system_fingerprint = "fp_3b956da36b";
    r.message.role = Role::kAssistant;
    r.message.text = prose(text_bytes, 99);
    r.finish_reason = FinishReason::kStop;
    r.usage = Usage{1532, 187, 1024};
    return r;
}

// The upstream side of a streamed answer, as an OpenAI-compatible server sends it:
// role chunk, one chunk per word, finish chunk, usage chunk, [DONE].
std::string upstream_stream(int n_words) {
    StreamMeta meta{"chatcmpl-9d8f7a6b5c4d3e2f1a0b9c8d", 1732540000, "gpt-4o", "fp_3b956da36b"};
    std::string out;
    ChatChunk role;
    role.role = true;
    append_openai_chunk_sse(out, meta, role, true);
    const std::string words = prose(static_cast<size_t>(n_words) * 6, 5);
    size_t pos = 0;
    for (int i = 0; i < n_words && pos < words.size(); ++i) {
        size_t next = words.find(' ', pos + 1);
        if (next == std::string::npos) next = words.size();
        ChatChunk c;
        c.content = words.substr(pos, next - pos);
        append_openai_chunk_sse(out, meta, c, true);
        pos = next;
    }
    ChatChunk fin;
    fin.finish_reason = FinishReason::kStop;
    append_openai_chunk_sse(out, meta, fin, true);
    ChatChunk usage;
    usage.usage = Usage{1532, static_cast<int64_t>(n_words), 0};
    append_openai_chunk_sse(out, meta, usage, true);
    append_openai_done_sse(out);
    return out;
}

// ------------------------------------------------------------------ inbound parsing

void BM_ParseOpenAIChatRequest(benchmark::State& state, const std::string* body) {
    for (auto _ : state) {
        auto r = parse_openai_chat_request(*body);
        benchmark::DoNotOptimize(r);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(body->size()));
    state.counters["body_bytes"] = static_cast<double>(body->size());
}

void BM_ParseAnthropicRequest(benchmark::State& state, const std::string* body) {
    for (auto _ : state) {
        auto r = parse_anthropic_request(*body);
        benchmark::DoNotOptimize(r);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(body->size()));
    state.counters["body_bytes"] = static_cast<double>(body->size());
}

// ------------------------------------------------------------------ outbound writing

void BM_WriteOpenAIChatRequest(benchmark::State& state, const std::string* body) {
    const ChatRequest req = must_parse_openai(*body);
    size_t out_bytes = 0;
    for (auto _ : state) {
        std::string out = write_openai_chat_request(req, "gpt-4o-2024-08-06", false);
        out_bytes = out.size();
        benchmark::DoNotOptimize(out);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out_bytes));
    state.counters["out_bytes"] = static_cast<double>(out_bytes);
}

void BM_WriteAnthropicRequest(benchmark::State& state, const std::string* body, bool from_openai) {
    const ChatRequest req = from_openai ? must_parse_openai(*body) : must_parse_anthropic(*body);
    size_t out_bytes = 0;
    for (auto _ : state) {
        std::string out = write_anthropic_request(req, "claude-3-5-sonnet-20241022", 4096, false);
        out_bytes = out.size();
        benchmark::DoNotOptimize(out);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out_bytes));
    state.counters["out_bytes"] = static_cast<double>(out_bytes);
}

void BM_WriteOpenAIChatResponse(benchmark::State& state) {
    const ChatResponse resp = sample_response(static_cast<size_t>(state.range(0)));
    size_t out_bytes = 0;
    for (auto _ : state) {
        std::string out = write_openai_chat_response(resp);
        out_bytes = out.size();
        benchmark::DoNotOptimize(out);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out_bytes));
    state.counters["out_bytes"] = static_cast<double>(out_bytes);
}

// The upstream response the gateway parses on every non-streamed call.
void BM_ParseOpenAIChatResponse(benchmark::State& state) {
    const std::string body =
        write_openai_chat_response(sample_response(static_cast<size_t>(state.range(0))));
    for (auto _ : state) {
        auto r = parse_openai_chat_response(body);
        benchmark::DoNotOptimize(r);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
    state.counters["body_bytes"] = static_cast<double>(body.size());
}

// ------------------------------------------------------------------ streaming

// One content chunk re-framed for the client, into a reused buffer (as the server does).
void BM_AppendOpenAIChunkSse(benchmark::State& state) {
    const StreamMeta meta{"chatcmpl-9d8f7a6b5c4d3e2f1a0b9c8d", 1732540000, "gpt-4o",
                          "fp_3b956da36b"};
    ChatChunk chunk;
    chunk.content = " gateway";
    const bool include_usage = state.range(0) != 0;
    std::string out;
    size_t out_bytes = 0;
    for (auto _ : state) {
        out.clear();
        append_openai_chunk_sse(out, meta, chunk, include_usage);
        out_bytes = out.size();
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out_bytes));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// A realistic upstream stream fed in network-sized reads: `read` bytes at a time (small
// reads split events across calls, as TCP does under load).
void BM_SseParserFeed(benchmark::State& state) {
    const std::string stream = upstream_stream(200);
    const size_t read = static_cast<size_t>(state.range(0));
    std::vector<SseEvent> events;
    events.reserve(256);
    size_t n_events = 0;
    for (auto _ : state) {
        SseParser parser;
        events.clear();
        for (size_t pos = 0; pos < stream.size(); pos += read) {
            parser.feed(std::string_view(stream).substr(pos, read), events);
        }
        n_events = events.size();
        benchmark::DoNotOptimize(events.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n_events));
    state.counters["stream_bytes"] = static_cast<double>(stream.size());
}

// The whole per-event path of a streamed OpenAI answer through the gateway: SSE parse,
// chunk decode, client re-framing. Items are events.
void BM_StreamRelayOpenAI(benchmark::State& state) {
    const std::string stream = upstream_stream(200);
    const StreamMeta client_meta{"chatcmpl-gatewayid000000000000", 1732540000, "bench-model", ""};
    std::vector<SseEvent> events;
    std::string out;
    size_t n_events = 0;
    for (auto _ : state) {
        SseParser parser;
        StreamMeta meta;
        events.clear();
        for (size_t pos = 0; pos < stream.size(); pos += 1460) {
            parser.feed(std::string_view(stream).substr(pos, 1460), events);
        }
        for (const auto& ev : events) {
            if (ev.data == "[DONE]") break;
            auto chunk = parse_openai_chunk(ev.data, meta);
            if (!chunk) state.SkipWithError("chunk does not parse");
            out.clear();
            append_openai_chunk_sse(out, client_meta, *chunk, false);
            benchmark::DoNotOptimize(out.data());
        }
        n_events = events.size();
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n_events));
}

// ------------------------------------------------------------------ registration

int register_all() {
    const std::string* so = &kSmallOpenAI;
    const std::string* lo = &large_openai_body();
    const std::string* sa = &kSmallAnthropic;
    const std::string* la = &large_anthropic_body();
    benchmark::RegisterBenchmark("ParseOpenAIChatRequest/small", BM_ParseOpenAIChatRequest, so);
    benchmark::RegisterBenchmark("ParseOpenAIChatRequest/8KB", BM_ParseOpenAIChatRequest, lo);
    benchmark::RegisterBenchmark("WriteOpenAIChatRequest/small", BM_WriteOpenAIChatRequest, so);
    benchmark::RegisterBenchmark("WriteOpenAIChatRequest/8KB", BM_WriteOpenAIChatRequest, lo);
    benchmark::RegisterBenchmark("ParseAnthropicRequest/small", BM_ParseAnthropicRequest, sa);
    benchmark::RegisterBenchmark("ParseAnthropicRequest/8KB", BM_ParseAnthropicRequest, la);
    benchmark::RegisterBenchmark("WriteAnthropicRequest/small", BM_WriteAnthropicRequest, sa,
                                 false);
    benchmark::RegisterBenchmark("WriteAnthropicRequest/8KB", BM_WriteAnthropicRequest, la, false);
    benchmark::RegisterBenchmark("WriteAnthropicRequest/8KB_from_openai", BM_WriteAnthropicRequest,
                                 lo, true);
    benchmark::RegisterBenchmark("WriteOpenAIChatResponse", BM_WriteOpenAIChatResponse)
        ->Arg(64)
        ->Arg(2048);
    benchmark::RegisterBenchmark("ParseOpenAIChatResponse", BM_ParseOpenAIChatResponse)
        ->Arg(64)
        ->Arg(2048);
    benchmark::RegisterBenchmark("AppendOpenAIChunkSse/include_usage", BM_AppendOpenAIChunkSse)
        ->Arg(0)
        ->Arg(1);
    benchmark::RegisterBenchmark("SseParserFeed/read_bytes", BM_SseParserFeed)
        ->Arg(64)
        ->Arg(1460)
        ->Arg(16384);
    benchmark::RegisterBenchmark("StreamRelayOpenAI", BM_StreamRelayOpenAI);
    return 0;
}

const int registered = register_all();

}  // namespace
