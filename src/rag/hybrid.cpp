#include "switchyard/rag/hybrid.hpp"

#include <algorithm>
#include <limits>
#include <unordered_map>

namespace switchyard::rag {

namespace {

std::vector<SearchHit> best(const std::unordered_map<uint64_t, double>& scores, size_t top_k) {
    std::vector<SearchHit> out;
    out.reserve(scores.size());
    for (const auto& [id, score] : scores)
        out.push_back({id, static_cast<float>(score)});
    auto order = [](const SearchHit& a, const SearchHit& b) {
        return a.score != b.score ? a.score > b.score : a.chunk_id < b.chunk_id;
    };
    const size_t n = std::min(top_k, out.size());
    std::partial_sort(out.begin(), out.begin() + static_cast<ptrdiff_t>(n), out.end(), order);
    out.resize(n);
    return out;
}

double weight_of(std::span<const double> weights, size_t i) {
    return i < weights.size() ? weights[i] : 1.0;
}

float similarity(std::span<const float> a, std::span<const float> b) {
    const size_t n = std::min(a.size(), b.size());
    float sum = 0;
    for (size_t i = 0; i < n; ++i)
        sum += a[i] * b[i];
    return sum;
}

}  // namespace

std::vector<SearchHit> reciprocal_rank_fusion(std::span<const std::vector<SearchHit>> lists,
                                              size_t top_k, double k,
                                              std::span<const double> weights) {
    std::unordered_map<uint64_t, double> scores;
    for (size_t i = 0; i < lists.size(); ++i) {
        const double w = weight_of(weights, i);
        for (size_t rank = 0; rank < lists[i].size(); ++rank) {
            scores[lists[i][rank].chunk_id] += w / (k + static_cast<double>(rank + 1));
        }
    }
    return best(scores, top_k);
}

std::vector<SearchHit> weighted_score_fusion(std::span<const std::vector<SearchHit>> lists,
                                             std::span<const double> weights, size_t top_k) {
    std::unordered_map<uint64_t, double> scores;
    for (size_t i = 0; i < lists.size(); ++i) {
        if (lists[i].empty()) continue;
        float lo = std::numeric_limits<float>::max();
        float hi = std::numeric_limits<float>::lowest();
        for (const auto& hit : lists[i]) {
            lo = std::min(lo, hit.score);
            hi = std::max(hi, hit.score);
        }
        const double w = weight_of(weights, i);
        for (const auto& hit : lists[i]) {
            const double norm = hi > lo ? (hit.score - lo) / static_cast<double>(hi - lo) : 1.0;
            scores[hit.chunk_id] += w * norm;
        }
    }
    return best(scores, top_k);
}

std::vector<SearchHit> mmr_rerank(std::span<const float> query,
                                  std::span<const MmrCandidate> candidates, size_t top_k,
                                  double lambda) {
    lambda = std::clamp(lambda, 0.0, 1.0);
    const size_t n = candidates.size();
    std::vector<float> relevance(n);
    // Highest similarity to any picked candidate so far.
    std::vector<float> redundancy(n, std::numeric_limits<float>::lowest());
    std::vector<bool> picked(n, false);
    for (size_t i = 0; i < n; ++i)
        relevance[i] = similarity(query, candidates[i].vector);

    std::vector<SearchHit> out;
    const size_t want = std::min(top_k, n);
    out.reserve(want);
    while (out.size() < want) {
        size_t choice = n;
        double choice_score = 0;
        for (size_t i = 0; i < n; ++i) {
            if (picked[i]) continue;
            const double penalty = out.empty() ? 0.0 : redundancy[i];
            const double score = lambda * relevance[i] - (1.0 - lambda) * penalty;
            if (choice == n || score > choice_score ||
                (score == choice_score && candidates[i].chunk_id < candidates[choice].chunk_id)) {
                choice = i;
                choice_score = score;
            }
        }
        picked[choice] = true;
        out.push_back({candidates[choice].chunk_id, relevance[choice]});
        for (size_t i = 0; i < n; ++i) {
            if (!picked[i]) {
                redundancy[i] = std::max(
                    redundancy[i], similarity(candidates[i].vector, candidates[choice].vector));
            }
        }
    }
    return out;
}

}  // namespace switchyard::rag
