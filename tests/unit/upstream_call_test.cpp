// Retry-After parsing for upstream errors (shared by chat failover and the remote embedder):
// whole-value delta-seconds only; anything else counts as too long, never as "retry now".
#include <gtest/gtest.h>

#include "../../src/providers/upstream_call.hpp"

namespace switchyard::detail {
namespace {

TEST(RetryAfter, DeltaSecondsAreTakenTrimmed) {
    EXPECT_EQ(parse_retry_after_s("120"), 120);
    EXPECT_EQ(parse_retry_after_s(" 7\t"), 7);
    EXPECT_EQ(parse_retry_after_s("0"), 0);
    EXPECT_EQ(parse_retry_after_s(""), -1);  // none sent
}

TEST(RetryAfter, AnythingElseIsTooLongNotImmediate) {
    EXPECT_EQ(parse_retry_after_s("120abc"), kRetryAfterTooLongS);
    EXPECT_EQ(parse_retry_after_s("1.5"), kRetryAfterTooLongS);
    EXPECT_EQ(parse_retry_after_s("-3"), kRetryAfterTooLongS);
    EXPECT_EQ(parse_retry_after_s("Wed, 21 Oct 2026 07:28:00 GMT"), kRetryAfterTooLongS);
    EXPECT_EQ(parse_retry_after_s("99999999999999999999"), kRetryAfterTooLongS);
    EXPECT_EQ(parse_retry_after_s("86401"), kRetryAfterTooLongS);
}

}  // namespace
}  // namespace switchyard::detail
