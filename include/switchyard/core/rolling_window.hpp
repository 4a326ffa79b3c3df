// RollingWindow: counters over the last `window` time units, kept as N fixed buckets of
// window/N each (so the window slides in window/N steps). Used by rate limits, circuit
// breakers and retry budgets: one place for the bucket arithmetic.
// Thread safety: none; the owner guards it (each user holds its own mutex).
// Failure: none. Times must be non-negative (unix or steady milliseconds).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace switchyard {

template <class Counts, size_t N>
class RollingWindow {
public:
    explicit RollingWindow(int64_t window)
        : window_(window), width_(std::max<int64_t>(1, window / static_cast<int64_t>(N))) {}

    // The bucket holding time `now`, emptied first if it still held an older slice.
    Counts& at(int64_t now) {
        Slot& s = slots_[index(now)];
        if (const int64_t start = now - now % width_; s.start != start) s = Slot{start, Counts{}};
        return s.counts;
    }
    // The bucket holding time `t` if it is still kept, else null.
    Counts* find(int64_t t) {
        Slot& s = slots_[index(t)];
        return s.start == t - t % width_ ? &s.counts : nullptr;
    }
    // Calls f(bucket_start, counts) for every bucket inside the window ending at `now`.
    template <class F>
    void for_each(int64_t now, F&& f) const {
        for (const auto& s : slots_) {
            if (s.start >= 0 && s.start > now - window_ && s.start <= now) f(s.start, s.counts);
        }
    }
    void clear() { slots_.fill(Slot{}); }
    int64_t width() const { return width_; }

private:
    struct Slot {
        int64_t start = -1;
        Counts counts{};
    };
    size_t index(int64_t t) const { return static_cast<size_t>((t / width_) % N); }

    int64_t window_;
    int64_t width_;
    std::array<Slot, N> slots_{};
};

}  // namespace switchyard
