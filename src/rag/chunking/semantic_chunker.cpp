#include "switchyard/rag/chunking/semantic_chunker.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "switchyard/rag/chunking/sentence_chunker.hpp"

namespace switchyard::rag {

namespace {

double percentile(std::vector<double> values, double p) {
    // Linear interpolation between closest ranks (numpy's default).
    std::sort(values.begin(), values.end());
    const double rank = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(values.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(rank));
    const size_t hi = std::min(lo + 1, values.size() - 1);
    return values[lo] + (values[hi] - values[lo]) * (rank - static_cast<double>(lo));
}

}  // namespace

SemanticChunker::SemanticChunker(const Embedder& embedder, SemanticOptions options)
    : embedder_(embedder), options_(options) {
    if (options_.amount < 0) {
        options_.amount = options_.breakpoint == Breakpoint::kPercentile          ? 95.0
                          : options_.breakpoint == Breakpoint::kStandardDeviation ? 3.0
                                                                                  : 1.5;
    }
    if (options_.breakpoint == Breakpoint::kPercentile && options_.amount > 100) {
        throw std::invalid_argument("semantic chunker: percentile above 100");
    }
    if (options_.batch_size == 0) options_.batch_size = 1;
    if (options_.max_size.size > 0) sizer_.emplace(options_.max_size);
}

Result<std::vector<double>> SemanticChunker::distances(
    std::string_view text, const std::vector<TextSpan>& sentences) const {
    const size_t n = sentences.size();
    const size_t w = options_.buffer_size;
    // Window i: sentences [i - w, i + w], as one contiguous span of the text.
    std::vector<std::string_view> windows(n);
    for (size_t i = 0; i < n; ++i) {
        const size_t first = i >= w ? i - w : 0;
        const size_t last = std::min(n - 1, i + w);
        TextSpan span = trim(text, {sentences[first].begin, sentences[last].end});
        windows[i] = text.substr(span.begin, span.size());
    }
    std::vector<float> vectors;
    size_t dim = 0;
    for (size_t at = 0; at < n; at += options_.batch_size) {
        const size_t count = std::min(options_.batch_size, n - at);
        EmbeddingBatch batch;
        std::string error = embedder_.embed({windows.data() + at, count}, batch);
        if (!error.empty()) {
            Error e;
            e.kind = ErrorKind::kUpstream;
            e.message =
                fmt::format("semantic chunker: embedder {} failed: {}", embedder_.name(), error);
            return e;
        }
        if (batch.rows() != count) {
            return Error::internal(
                fmt::format("semantic chunker: embedder {} returned {} of {} vectors",
                            embedder_.name(), batch.rows(), count));
        }
        dim = batch.dim();
        vectors.insert(vectors.end(), batch.data().begin(), batch.data().end());
    }
    std::vector<double> out;
    out.reserve(n > 0 ? n - 1 : 0);
    for (size_t i = 0; i + 1 < n; ++i) {
        const std::span<const float> a(vectors.data() + i * dim, dim);
        const std::span<const float> b(vectors.data() + (i + 1) * dim, dim);
        out.push_back(1.0 - static_cast<double>(dot(a, b)));
    }
    return out;
}

double SemanticChunker::threshold(std::vector<double> d) const {
    if (d.empty()) return 0;
    switch (options_.breakpoint) {
        case Breakpoint::kPercentile:
            return percentile(std::move(d), options_.amount);
        case Breakpoint::kStandardDeviation:
        case Breakpoint::kInterquartile: {
            double mean = 0;
            for (double x : d)
                mean += x;
            mean /= static_cast<double>(d.size());
            if (options_.breakpoint == Breakpoint::kInterquartile) {
                const double iqr = percentile(d, 75) - percentile(d, 25);
                return mean + options_.amount * iqr;
            }
            double var = 0;
            for (double x : d)
                var += (x - mean) * (x - mean);
            return mean + options_.amount * std::sqrt(var / static_cast<double>(d.size()));
        }
    }
    return 0;
}

Result<std::vector<Chunk>> SemanticChunker::split(const Document& document) const {
    if (Status ok = check_utf8(document); !ok) return ok.error();
    const std::string_view text = document.text;
    // Sentences that are only whitespace add nothing to embed.
    std::vector<TextSpan> sentences;
    for (const TextSpan& s : split_sentences(text, {0, text.size()})) {
        if (trim(text, s).size() > 0) {
            sentences.push_back(s);
        } else if (!sentences.empty()) {
            sentences.back().end = s.end;
        }
    }
    std::vector<TextSpan> groups;
    if (sentences.size() == 1) {
        groups.push_back(sentences[0]);
    } else if (sentences.size() > 1) {
        Result<std::vector<double>> d = distances(text, sentences);
        if (!d) return d.error();
        const double limit = threshold(d.value());
        size_t first = 0;
        for (size_t i = 0; i < d->size(); ++i) {
            if ((*d)[i] > limit) {
                groups.push_back({sentences[first].begin, sentences[i].end});
                first = i + 1;
            }
        }
        groups.push_back({sentences[first].begin, sentences.back().end});
    }
    ChunkEmitter emitter(document, options_.max_size);
    for (const TextSpan& group : groups) {
        if (sizer_ &&
            sizer_->measure(text.substr(group.begin, group.size())) > options_.max_size.size) {
            for (const TextSpan& span : pack_units(text, split_sentences(text, group), *sizer_)) {
                emitter.emit(span);
            }
            continue;
        }
        const TextSpan span = trim(text, group);
        if (span.size() > 0) emitter.emit(span);
    }
    return emitter.take();
}

}  // namespace switchyard::rag
