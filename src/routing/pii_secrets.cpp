// Credentials: provider API keys by their documented prefixes and alphabets, JWTs and PEM
// private key blocks. Documentation placeholders ("AKIAIOSFODNN7EXAMPLE", "sk-xxxx...",
// "sk-your-key-here") are skipped when PiiOptions::ignore_placeholder_keys is set.
#include <cstring>
#include <string_view>

#include "pii_detail.hpp"
#include "switchyard/routing/pii.hpp"

namespace switchyard::routing::detail {

namespace {

bool starts(std::string_view s, size_t i, std::string_view prefix) {
    return s.size() - i >= prefix.size() &&
           std::memcmp(s.data() + i, prefix.data(), prefix.size()) == 0;
}

bool is_key_char(unsigned char c) {
    return is_alnum(c) || c == '_' || c == '-';
}

size_t run_of(std::string_view s, size_t pos, bool (*pred)(unsigned char)) {
    const size_t from = pos;
    while (pos < s.size() && pred(static_cast<unsigned char>(s[pos])))
        ++pos;
    return pos - from;
}

bool contains_ci(std::string_view hay, std::string_view needle) {
    if (needle.size() > hay.size()) return false;
    for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
        size_t k = 0;
        while (k < needle.size() && (hay[i + k] | 0x20) == needle[k])
            ++k;
        if (k == needle.size()) return true;
    }
    return false;
}

// Documentation placeholders and hand-typed fakes: a marker word, or a long run of one
// character or of consecutive characters (abcdefgh, 12345678).
bool placeholder(std::string_view body) {
    static constexpr std::string_view kMarkers[] = {"example", "xxxx", "your",    "placeholder",
                                                    "dummy",   "fake", "redacted"};
    for (auto m : kMarkers)
        if (contains_ci(body, m)) return true;
    int same = 1, step = 1;
    for (size_t i = 1; i < body.size(); ++i) {
        same = body[i] == body[i - 1] ? same + 1 : 1;
        step = body[i] == body[i - 1] + 1 ? step + 1 : 1;
        if (same >= 6 || step >= 8) return true;
    }
    return false;
}

bool mixed(std::string_view body) {
    bool digit = false, alpha = false;
    for (unsigned char c : body) {
        digit = digit || is_digit(c);
        alpha = alpha || is_alpha(c);
    }
    return digit && alpha;
}

Match key(std::string_view s, size_t i, size_t prefix_len, size_t body_len, const PiiOptions& o) {
    const std::string_view body = s.substr(i + prefix_len, body_len);
    if (!mixed(body)) return {};
    if (o.ignore_placeholder_keys && placeholder(body)) return {};
    return {PiiKind::kApiKey, prefix_len + body_len};
}

bool is_upper_digit(unsigned char c) {
    return is_upper(c) || is_digit(c);
}
bool is_alnum_c(unsigned char c) {
    return is_alnum(c);
}
bool is_alnum_us(unsigned char c) {
    return is_alnum(c) || c == '_';
}
bool is_b64url(unsigned char c) {
    return is_alnum(c) || c == '_' || c == '-';
}
bool is_key_c(unsigned char c) {
    return is_key_char(c);
}

Match jwt(std::string_view s, size_t i) {
    size_t pos = i;
    for (int seg = 0; seg < 3; ++seg) {
        const size_t len = run_of(s, pos, is_b64url);
        if (len < 10) return {};
        pos += len;
        if (seg < 2) {
            if (at(s, pos) != '.') return {};
            ++pos;
        }
    }
    if (at(s, pos) == '.' && is_b64url(at(s, pos + 1))) return {};
    return {PiiKind::kJwt, pos - i};
}

}  // namespace

Match match_credential(std::string_view s, size_t i, const PiiOptions& o) {
    switch (s[i]) {
        case 's':
        case 'r':
            if (starts(s, i, "sk-")) {  // OpenAI (sk-, sk-proj-, sk-svcacct-), sk-ant-, sk-sy-
                const size_t len = run_of(s, i + 3, is_key_c);
                if (len >= 20) return key(s, i, 3, len, o);
            } else if (starts(s, i, "sk_live_") || starts(s, i, "rk_live_")) {  // Stripe
                const size_t len = run_of(s, i + 8, is_alnum_c);
                if (len >= 20 && !is_key_char(at(s, i + 8 + len))) return key(s, i, 8, len, o);
            }
            return {};
        case 'A':
            if (starts(s, i, "AKIA") || starts(s, i, "ASIA")) {  // AWS access key id
                const size_t len = run_of(s, i + 4, is_upper_digit);
                if (len == 16 && !is_alnum(at(s, i + 20))) {
                    if (o.ignore_placeholder_keys && placeholder(s.substr(i + 4, 16))) return {};
                    return {PiiKind::kApiKey, 20};
                }
            } else if (starts(s, i, "AIza")) {  // Google API key
                const size_t len = run_of(s, i + 4, is_key_c);
                if (len == 35) return key(s, i, 4, len, o);
            }
            return {};
        case 'g':
            if (starts(s, i, "github_pat_")) {
                const size_t len = run_of(s, i + 11, is_alnum_us);
                if (len >= 50) return key(s, i, 11, len, o);
            } else if (at(s, i + 1) == 'h' && at(s, i + 3) == '_' &&
                       std::strchr("pousr", at(s, i + 2)) != nullptr && at(s, i + 2) != 0) {
                const size_t len = run_of(s, i + 4, is_alnum_c);  // ghp_, gho_, ghu_, ghs_, ghr_
                if (len >= 36 && len <= 255) return key(s, i, 4, len, o);
            }
            return {};
        case 'x':
            if (starts(s, i, "xox") && std::strchr("abprs", at(s, i + 3)) != nullptr &&
                at(s, i + 3) != 0 && at(s, i + 4) == '-') {  // Slack
                const size_t len = run_of(s, i + 5, is_key_c);
                if (len >= 10) return key(s, i, 5, len, o);
            }
            return {};
        case 'e':
            if (starts(s, i, "eyJ")) return jwt(s, i);
            return {};
        default:
            return {};
    }
}

Match match_private_key(std::string_view s, size_t i) {
    // "-----BEGIN <LABEL>-----" where LABEL ends in "PRIVATE KEY" (RSA, EC, OPENSSH,
    // ENCRYPTED, or none) or is "PGP PRIVATE KEY BLOCK".
    const size_t label = i + 11;
    size_t pos = label;
    while (pos < s.size() && pos - label < 40 && (is_upper(at(s, pos)) || at(s, pos) == ' '))
        ++pos;
    if (!starts(s, pos, "-----")) return {};
    const std::string_view name = s.substr(label, pos - label);
    const bool is_private = name.ends_with("PRIVATE KEY") || name == "PGP PRIVATE KEY BLOCK";
    if (!is_private) return {};
    const size_t body = pos + 5;
    const size_t end_marker = s.find("-----END ", body);
    if (end_marker == std::string_view::npos) return {PiiKind::kPrivateKey, s.size() - i};
    const size_t close = s.find("-----", end_marker + 9);
    if (close == std::string_view::npos) return {PiiKind::kPrivateKey, s.size() - i};
    return {PiiKind::kPrivateKey, close + 5 - i};
}

}  // namespace switchyard::routing::detail
