// RemoteEmbedder: batches of texts to an OpenAI-compatible /v1/embeddings endpoint through the
// model's provider adapter, with retries; see the header.
#include "switchyard/providers/remote_embedder.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "switchyard/core/json_writer.hpp"
#include "switchyard/providers/http_client.hpp"
#include "switchyard/providers/provider.hpp"
#include "switchyard/resilience/retry.hpp"

namespace switchyard {

struct RemoteEmbedder::Impl {
    std::unique_ptr<Provider> provider;
    std::unique_ptr<net::ssl::context> tls;
    uint64_t instance = 0;  // tells this embedder's thread-local clients from another's
};

namespace {

constexpr std::string_view kProbeText = "dimension probe";

// Failures worth another attempt: the upstream was busy, broken for a moment or unreachable.
bool retryable(const Error& e) {
    if (e.code == "insufficient_quota") return false;  // a 429 that waiting does not fix
    switch (upstream_cause(e)) {
        case UpstreamCause::kConnect:
        case UpstreamCause::kConnectTimeout:
        case UpstreamCause::kFirstByteTimeout:
        case UpstreamCause::kBetweenChunksTimeout:
        case UpstreamCause::kTotalTimeout:
        case UpstreamCause::kConnectionReset:
        case UpstreamCause::kRateLimited:
        case UpstreamCause::kOverloaded:
        case UpstreamCause::kServerError:
            return true;
        default:
            return false;
    }
}

std::string describe(const Error& e) {
    if (e.upstream_status != 0) return fmt::format("HTTP {}: {}", e.upstream_status, e.message);
    return e.message;
}

// One embed() call: its batches in order, on the caller's own io_context.
struct Job {
    const RagRemoteEmbedderConfig& config;
    Provider& provider;
    HttpClient& http;
    std::span<const std::string_view> texts;
    rag::EmbeddingBatch& out;
    size_t dim = 0;
    std::string error;
};

awaitable<void> run_job(Job& job) {
    const RagRemoteEmbedderConfig& c = job.config;
    const ModelConfig& model = c.model_config;
    UpstreamTimeouts timeouts;
    timeouts.connect = std::chrono::milliseconds(c.upstream.connect_timeout_ms);
    timeouts.first_byte = std::chrono::milliseconds(c.timeout_ms);
    timeouts.between_chunks =
        std::chrono::milliseconds(std::min(c.timeout_ms, c.upstream.between_chunks_timeout_ms));
    timeouts.total = std::chrono::milliseconds(c.timeout_ms);
    resilience::RetryConfig rc;
    rc.max_attempts = c.max_retries + 1;
    rc.base_delay_ms = 200;
    rc.max_delay_ms = 5'000;
    rc.max_retry_after_ms = 30'000;
    const resilience::RetryPolicy policy(rc);
    std::mt19937_64 rng{std::random_device{}()};
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    net::steady_timer timer(job.http.io_context());
    const size_t max_bytes = static_cast<size_t>(c.max_batch_kb) << 10;
    const size_t n = job.texts.size();

    size_t begin = 0;
    while (begin < n) {
        const size_t end = remote_embedding::batch_end(
            job.texts, begin, static_cast<size_t>(c.batch_size), max_bytes);
        EmbeddingRequest request;
        request.model = model.name;
        request.encoding_format = "float";
        JsonWriter w(request.raw_input_json);
        w.begin_array();
        for (size_t i = begin; i < end; ++i)
            w.value(job.texts[i]);
        w.end_array();

        // One batch's attempts and waits together end timeout_ms after it starts: a slow or
        // throttling server holds the calling (blocking-pool) thread for at most that long.
        const auto batch_start = std::chrono::steady_clock::now();
        const auto elapsed_ms = [&batch_start] {
            return std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - batch_start)
                .count();
        };
        for (int64_t attempt = 1;; ++attempt) {
            const auto left =
                std::chrono::milliseconds(std::max<int64_t>(1, c.timeout_ms - elapsed_ms()));
            UpstreamTimeouts attempt_timeouts = timeouts;
            attempt_timeouts.connect = std::min(timeouts.connect, left);
            attempt_timeouts.first_byte = std::min(timeouts.first_byte, left);
            attempt_timeouts.between_chunks = std::min(timeouts.between_chunks, left);
            attempt_timeouts.total = std::min(timeouts.total, left);
            CallContext call{job.http, nullptr, attempt_timeouts, "rag-embed"};
            auto response = co_await job.provider.embed(request, model, call);
            if (response) {
                job.error = remote_embedding::parse_rows(response->data_json, end - begin, begin, n,
                                                         job.dim, job.out);
                if (!job.error.empty()) co_return;
                break;
            }
            const Error& e = response.error();
            std::optional<int64_t> wait_ms;
            if (retryable(e)) {
                std::optional<int64_t> retry_after;
                if (e.retry_after_s >= 0) retry_after = int64_t{e.retry_after_s} * 1000;
                wait_ms =
                    policy.backoff_ms(attempt, unit(rng), retry_after, elapsed_ms(), c.timeout_ms);
            }
            if (!wait_ms) {
                job.error = describe(e);
                if (attempt > 1) job.error += fmt::format(" (after {} attempts)", attempt);
                if (retryable(e) && attempt <= c.max_retries) {
                    if (int64_t{e.retry_after_s} * 1000 > rc.max_retry_after_ms) {
                        job.error +=
                            fmt::format(" (Retry-After {} s is more than {} s: not waited)",
                                        e.retry_after_s, rc.max_retry_after_ms / 1000);
                    } else {
                        job.error += fmt::format(
                            " (another attempt would end past the batch's {} ms timeout_ms)",
                            c.timeout_ms);
                    }
                }
                co_return;
            }
            timer.expires_after(std::chrono::milliseconds(*wait_ms));
            beast::error_code ec;
            co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        }
        begin = end;
    }
}

// Each thread's io_context and HTTP client for one embedder (the one last used on the
// thread), kept between calls so a blocking-pool thread reuses its keep-alive connection
// instead of paying a TCP (and TLS) handshake per query.
struct ThreadClient {
    uint64_t owner = 0;  // RemoteEmbedder instance id; 0: none
    std::unique_ptr<net::io_context> ioc;
    std::shared_ptr<HttpClient> http;  // destroyed before ioc
};
thread_local ThreadClient t_client;
std::atomic<uint64_t> next_instance{1};

}  // namespace

std::string RemoteEmbedder::name_of(const ModelConfig& model) {
    return model.provider_name + ":" + model.upstream_model;
}

RemoteEmbedder::RemoteEmbedder(const RagRemoteEmbedderConfig& config)
    : config_(config), name_(name_of(config_.model_config)), impl_(std::make_unique<Impl>()) {
    impl_->provider = make_provider(config_.model_config);
    impl_->tls = HttpClient::make_tls_context(config_.upstream);
    impl_->instance = next_instance.fetch_add(1, std::memory_order_relaxed);
    dimension_.store(static_cast<size_t>(config_.dimensions), std::memory_order_release);
}

RemoteEmbedder::~RemoteEmbedder() = default;

std::string RemoteEmbedder::embed(std::span<const std::string_view> texts,
                                  rag::EmbeddingBatch& out) const {
    const size_t known = dimension();
    if (texts.empty()) {
        out = rag::EmbeddingBatch(0, known);
        return {};
    }
    rag::EmbeddingBatch result;
    if (known != 0) result = rag::EmbeddingBatch(texts.size(), known);
    ThreadClient& tc = t_client;
    if (tc.owner != impl_->instance) {
        tc.http.reset();
        tc.ioc = std::make_unique<net::io_context>(1);
        tc.http = std::make_shared<HttpClient>(*tc.ioc, *impl_->tls, config_.upstream);
        tc.owner = impl_->instance;
    }
    net::io_context& ioc = *tc.ioc;
    ioc.restart();
    Job job{config_, *impl_->provider, *tc.http, texts, result, known, {}};
    // Stopped when the job ends: the client's idle connection keeps a deadline timer armed,
    // which would hold run() until it fires.
    net::co_spawn(ioc, run_job(job), [&ioc, &job](const std::exception_ptr& failed) {
        if (failed) job.error = "the embedding call failed unexpectedly";
        ioc.stop();
    });
    ioc.run();
    if (!job.error.empty())
        return fmt::format("model '{}': {}", config_.model_config.name, job.error);
    if (known == 0) {
        size_t expected = 0;
        dimension_.compare_exchange_strong(expected, job.dim, std::memory_order_acq_rel);
        if (expected != 0 && expected != job.dim) {
            return fmt::format("model '{}' answered {} dimensions, earlier {}",
                               config_.model_config.name, job.dim, expected);
        }
    }
    out = std::move(result);
    return {};
}

std::string RemoteEmbedder::probe() {
    if (dimension() != 0) return {};
    const std::string_view text = kProbeText;
    rag::EmbeddingBatch out;
    return embed(std::span<const std::string_view>(&text, 1), out);
}

namespace remote_embedding {

size_t batch_end(std::span<const std::string_view> texts, size_t begin, size_t max_texts,
                 size_t max_bytes) {
    size_t end = begin;
    size_t bytes = 0;
    while (end < texts.size() && end - begin < max_texts &&
           (end == begin || bytes + texts[end].size() <= max_bytes)) {
        bytes += texts[end].size();
        ++end;
    }
    return end;
}

std::string parse_rows(std::string_view data_json, size_t n, size_t first, size_t total_rows,
                       size_t& dim, rag::EmbeddingBatch& out) {
    simdjson::dom::parser parser;
    simdjson::dom::array items;
    if (parser.parse(data_json.data(), data_json.size()).get(items) != simdjson::SUCCESS) {
        return "the answer's data is not an array";
    }
    if (items.size() != n) {
        return fmt::format("the answer has {} embeddings for {} inputs", items.size(), n);
    }
    std::vector<bool> seen(n, false);
    for (simdjson::dom::element item : items) {
        simdjson::dom::object obj;
        int64_t index = -1;
        simdjson::dom::array values;
        if (item.get(obj) != simdjson::SUCCESS || obj["index"].get(index) != simdjson::SUCCESS ||
            obj["embedding"].get(values) != simdjson::SUCCESS) {
            return "an embedding is not {index, embedding: [numbers]} (encoding_format float)";
        }
        if (index < 0 || static_cast<size_t>(index) >= n || seen[static_cast<size_t>(index)]) {
            return fmt::format("embedding index {} is out of range or repeated ({} inputs)", index,
                               n);
        }
        seen[static_cast<size_t>(index)] = true;
        if (dim == 0) {
            if (values.size() == 0) return "an embedding has no values";
            dim = values.size();
        }
        if (values.size() != dim) {
            return fmt::format("embedding {} has {} dimensions, expected {}", index, values.size(),
                               dim);
        }
        if (out.rows() == 0) out = rag::EmbeddingBatch(total_rows, dim);
        std::span<float> row = out.row(first + static_cast<size_t>(index));
        double norm = 0;
        size_t k = 0;
        for (simdjson::dom::element v : values) {
            double x = 0;
            if (v.get(x) != simdjson::SUCCESS) {
                return fmt::format("embedding {} holds a value that is not a number", index);
            }
            row[k++] = static_cast<float>(x);
            norm += x * x;
        }
        if (!std::isfinite(norm) || norm <= 0) {
            return fmt::format("embedding {} is zero or not finite", index);
        }
        const double scale = 1.0 / std::sqrt(norm);
        for (float& x : row)
            x = static_cast<float>(x * scale);
    }
    return {};
}

}  // namespace remote_embedding

}  // namespace switchyard
