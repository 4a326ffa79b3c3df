// Hybrid retrieval: combining ranked lists (BM25 and dense, or several queries) into one,
// and re-ranking for diversity. Pure functions over SearchHit lists (best first).
//  - Reciprocal rank fusion (Cormack et al., 2009): score(d) = sum_i w_i / (k + rank_i(d)),
//    rank from 1, k = 60. Uses only ranks, so BM25 and cosine scores need no calibration.
//  - Weighted score fusion: each list's scores min-max normalised to [0, 1] (a list whose
//    scores are all equal gives 1), then sum_i w_i * norm_i(d); absent from a list adds 0.
//  - Maximal marginal relevance (Carbonell and Goldstein, 1998): picks greedily the
//    candidate maximising lambda * sim(query, d) - (1 - lambda) * max over picked s of sim(d, s).
// Ties are broken by the lower chunk id, so results are deterministic.
// Thread safety: pure functions.
// Failure: none. Empty lists give empty results; top_k larger than the candidates returns
// them all; missing weights count 1; candidate vectors shorter than the query are compared
// on the common prefix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "switchyard/rag/search_hit.hpp"

namespace switchyard::rag {

inline constexpr double kRrfK = 60.0;

// Fused score in SearchHit::score; best first.
std::vector<SearchHit> reciprocal_rank_fusion(std::span<const std::vector<SearchHit>> lists,
                                              size_t top_k, double k = kRrfK,
                                              std::span<const double> weights = {});

std::vector<SearchHit> weighted_score_fusion(std::span<const std::vector<SearchHit>> lists,
                                             std::span<const double> weights, size_t top_k);

struct MmrCandidate {
    uint64_t chunk_id = 0;
    std::span<const float> vector;  // unit vector; must outlive the call
};

// Returns up to top_k candidates in MMR order; SearchHit::score is the candidate's
// similarity to the query (dot product), not the MMR objective. lambda 1 is plain
// relevance order, 0 pure diversity; clamped to [0, 1].
std::vector<SearchHit> mmr_rerank(std::span<const float> query,
                                  std::span<const MmrCandidate> candidates, size_t top_k,
                                  double lambda = 0.5);

}  // namespace switchyard::rag
