#include "switchyard/rag/embedder.hpp"

namespace switchyard::rag {

float dot(std::span<const float> a, std::span<const float> b) {
    const size_t n = a.size() < b.size() ? a.size() : b.size();
    float sum = 0;
    for (size_t i = 0; i < n; ++i)
        sum += a[i] * b[i];
    return sum;
}

}  // namespace switchyard::rag
