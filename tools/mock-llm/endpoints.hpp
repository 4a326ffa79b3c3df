// The mock's HTTP API: routes a request to its endpoint, checks auth, merges the faults that
// reach it and plays them out (latency, hang, error status, reset, malformed, slow or broken
// streams), then answers in the endpoint's wire format. Also the /_mock admin endpoints.
// Thread-safe: MockService's config is immutable; FaultBook and Stats are thread-safe; each
// worker uses its own JSON parser.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <simdjson.h>

#include "faults.hpp"
#include "http_server.hpp"
#include "stats.hpp"
#include "wire.hpp"

namespace mock_llm {

struct MockConfig {
    std::string require_key;             // empty: no authentication
    std::optional<int64_t> reply_words;  // --reply-words: filler reply of this many words
};

class MockService final : public RequestHandler {
public:
    MockService(MockConfig config, FaultBook& faults, Stats& stats, size_t workers);

    net::awaitable<Outcome> handle(std::shared_ptr<HttpRequest> request, ClientChannel& client,
                                   size_t worker) override;
    void on_connection(size_t worker) override { stats_.on_connection(worker); }

private:
    struct Exchange;
    struct Done;

    net::awaitable<Done> serve_api(const HttpRequest& request, std::string_view path,
                                   ClientChannel& client, size_t worker);
    net::awaitable<Done> serve_chat(Exchange& ex, const HttpRequest& request, ClientChannel& client,
                                    size_t worker);
    net::awaitable<Done> serve_embeddings(Exchange& ex, const HttpRequest& request,
                                          ClientChannel& client, size_t worker);
    net::awaitable<Done> serve_models(Exchange& ex, const HttpRequest& request,
                                      ClientChannel& client);
    net::awaitable<Outcome> serve_admin(const HttpRequest& request, std::string_view path,
                                        ClientChannel& client);

    // Faults that act before any answer: latency, hang, status, non-stream reset.
    net::awaitable<std::optional<Done>> play_prelude(const Exchange& ex, const FaultPlan& plan,
                                                     bool streaming, ClientChannel& client);
    net::awaitable<Done> play_stream(const Exchange& ex, const FaultPlan& plan, SseStream& stream,
                                     ClientChannel& client);
    net::awaitable<Done> send(const Exchange& ex, int status, std::string_view body,
                              std::string_view extra_headers, ClientChannel& client);
    net::awaitable<Done> send_error(const Exchange& ex, const ApiError& error,
                                    std::string_view retry_after, ClientChannel& client);
    // Merges the x-mock-fault header and the message directive with the rules.
    std::optional<ApiError> plan_faults(const HttpRequest& request, std::string_view model,
                                        std::string_view directive, FaultPlan& plan);
    std::optional<ApiError> check_auth(const Exchange& ex, const HttpRequest& request) const;

    const MockConfig config_;
    FaultBook& faults_;
    Stats& stats_;
    std::vector<std::unique_ptr<simdjson::dom::parser>> parsers_;  // one per worker
    std::atomic<uint64_t> serial_{0};
};

}  // namespace mock_llm
