// Internal to the PII scanner: byte classes and the per-family matchers it dispatches to.
// Thread safety: pure functions. Failure: none (a matcher returns length 0 for "no match").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "switchyard/routing/pii.hpp"

namespace switchyard::routing::detail {

inline bool is_digit(unsigned char c) {
    return static_cast<unsigned>(c - '0') < 10u;
}
inline bool is_upper(unsigned char c) {
    return static_cast<unsigned>(c - 'A') < 26u;
}
inline bool is_lower(unsigned char c) {
    return static_cast<unsigned>(c - 'a') < 26u;
}
inline bool is_alpha(unsigned char c) {
    return is_upper(c) || is_lower(c);
}
inline bool is_alnum(unsigned char c) {
    return is_digit(c) || is_alpha(c);
}
inline unsigned char at(std::string_view s, size_t i) {
    return i < s.size() ? static_cast<unsigned char>(s[i]) : 0;
}

struct Match {
    PiiKind kind = PiiKind::kEmail;
    size_t length = 0;   // 0: no match
    bool report = true;  // false: skip `length` bytes without a finding (a failed ID)
};

// IBAN length for a country code, 0 when the country has no IBAN.
int iban_length_for(char a, char b);

// Credentials starting at word start `i` (sk-, sk_live_, AKIA, AIza, ghp_, xox?-, eyJ...).
Match match_credential(std::string_view s, size_t i, const PiiOptions& options);
// "-----BEGIN ... PRIVATE KEY-----" at `i`, through its END line (or the end of the text).
Match match_private_key(std::string_view s, size_t i);
// Digit runs starting at `i` (a digit, '+' or '('): card, SSN, tax ID, phone.
Match match_number(std::string_view s, size_t i);
// IBAN or UK NINO at an upper-case word start `i`.
Match match_letter_id(std::string_view s, size_t i);

}  // namespace switchyard::routing::detail
