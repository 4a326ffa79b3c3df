// The PII scanner's driver: one forward pass that jumps (16 bytes at a time, SSE2) to the bytes
// that can start a finding and dispatches there: digits, '+', '(' (numbers), upper-case word
// starts (IBAN, NINO, AWS and Google keys), '-' and '_' (sk-, xoxb-, ghp_, sk_live_,
// -----BEGIN), the J of eyJ (JWT) and '@' (e-mail).
#include <emmintrin.h>

#include <cstring>

#include "pii_detail.hpp"
#include "switchyard/routing/pii.hpp"

namespace switchyard::routing {

using namespace detail;

std::string_view to_string(PiiKind kind) {
    switch (kind) {
        case PiiKind::kEmail:
            return "email";
        case PiiKind::kPhone:
            return "phone";
        case PiiKind::kPaymentCard:
            return "payment_card";
        case PiiKind::kIban:
            return "iban";
        case PiiKind::kUsSsn:
            return "us_ssn";
        case PiiKind::kUkNino:
            return "uk_nino";
        case PiiKind::kDeTaxId:
            return "de_tax_id";
        case PiiKind::kApiKey:
            return "api_key";
        case PiiKind::kJwt:
            return "jwt";
        case PiiKind::kPrivateKey:
            return "private_key";
    }
    return "unknown";
}

std::string_view to_string(PrivacyLevel level) {
    switch (level) {
        case PrivacyLevel::kNone:
            return "none";
        case PrivacyLevel::kPersonal:
            return "personal";
        case PrivacyLevel::kSensitive:
            return "sensitive";
        case PrivacyLevel::kSecret:
            return "secret";
    }
    return "unknown";
}

namespace {

bool is_local_char(unsigned char c) {
    return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool is_domain_char(unsigned char c) {
    return is_alnum(c) || c == '-';
}

// An e-mail address around the '@' at `at_pos`, not reaching back before `floor`.
// Returns {start, length}; length 0 when there is none.
std::pair<size_t, size_t> match_email(std::string_view s, size_t at_pos, size_t floor) {
    size_t start = at_pos;
    while (start > floor && at_pos - start < 64 && is_local_char(at(s, start - 1)))
        --start;
    while (start < at_pos && !is_alnum(at(s, start)))
        ++start;  // no leading '.', '-', '+'
    if (start == at_pos || at(s, at_pos - 1) == '.') return {0, 0};
    size_t pos = at_pos + 1;
    size_t labels = 0;
    size_t end = 0;
    bool last_alpha_only = false;
    while (true) {
        const size_t label_start = pos;
        bool alpha_only = true;
        while (is_domain_char(at(s, pos)) && pos - label_start < 63) {
            if (!is_alpha(at(s, pos))) alpha_only = false;
            ++pos;
        }
        if (pos == label_start || at(s, label_start) == '-' || at(s, pos - 1) == '-') break;
        ++labels;
        end = pos;
        last_alpha_only = alpha_only && pos - label_start >= 2;
        if (at(s, pos) != '.' || !is_alnum(at(s, pos + 1))) break;
        ++pos;
    }
    if (labels < 2 || !last_alpha_only) return {0, 0};
    if (is_alnum(at(s, end)) || at(s, end) == '@') return {0, 0};
    return {start, end - start};
}

}  // namespace

namespace {

bool is_trigger(unsigned char c) {
    return is_digit(c) || is_upper(c) || c == '@' || c == '-' || c == '_' || c == '+' || c == '(';
}

// The next position at or after `i` whose byte can take part in starting a finding: a digit,
// an upper-case letter (IBAN, NINO, AKIA, AIza, the J of eyJ), '@', '-' and '_' (the
// separators of sk-, xoxb-, ghp_, sk_live_, github_pat_, -----BEGIN), '+' and '('. Prose is
// mostly lower-case letters and spaces, so this skips 16 bytes at a time.
size_t next_trigger(const char* s, size_t n, size_t i) {
    const __m128i zero_digit = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);
    const __m128i a_upper = _mm_set1_epi8('A'), twenty_five = _mm_set1_epi8(25);
    const __m128i at_sign = _mm_set1_epi8('@'), dash = _mm_set1_epi8('-');
    const __m128i underscore = _mm_set1_epi8('_'), plus = _mm_set1_epi8('+');
    const __m128i paren = _mm_set1_epi8('(');
    for (; i + 16 <= n; i += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
        const __m128i d = _mm_sub_epi8(v, zero_digit);
        const __m128i u = _mm_sub_epi8(v, a_upper);
        __m128i m = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(d, nine), d),
                                 _mm_cmpeq_epi8(_mm_min_epu8(u, twenty_five), u));
        m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, at_sign), _mm_cmpeq_epi8(v, dash)));
        m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, underscore), _mm_cmpeq_epi8(v, plus)));
        m = _mm_or_si128(m, _mm_cmpeq_epi8(v, paren));
        const int bits = _mm_movemask_epi8(m);
        if (bits != 0) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(bits)));
    }
    while (i < n && !is_trigger(static_cast<unsigned char>(s[i])))
        ++i;
    return i;
}

bool word_start(std::string_view s, size_t i) {
    return i == 0 || !is_alnum(at(s, i - 1));
}

bool has_at(std::string_view s, size_t i, std::string_view what) {
    if (i + what.size() > s.size()) return false;
    for (size_t k = 0; k < what.size(); ++k)
        if (s[i + k] != what[k]) return false;
    return true;
}

}  // namespace

void scan_pii(std::string_view s, const PiiOptions& options, std::vector<PiiFinding>& out) {
    const size_t n = s.size();
    size_t last_end = 0;
    auto emit = [&](PiiKind kind, size_t start, size_t length) {
        last_end = start + length;
        if (options.level_of[static_cast<int>(kind)] == PrivacyLevel::kNone) return;
        out.push_back({kind, static_cast<uint32_t>(start), static_cast<uint32_t>(length)});
    };
    size_t i = 0;
    while ((i = next_trigger(s.data(), n, i)) < n) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '@') {
            auto [start, length] = match_email(s, i, last_end);
            if (length != 0) {
                emit(PiiKind::kEmail, start, length);
                i = start + length;
                continue;
            }
            ++i;
            continue;
        }
        // Where a finding would start, given the trigger byte; npos when it cannot.
        size_t start = std::string_view::npos;
        Match m;
        if (c == '-') {
            if (at(s, i + 1) == '-' && has_at(s, i, "-----BEGIN ")) {
                m = match_private_key(s, i);
                start = i;
            } else if (i >= 2 && has_at(s, i - 2, "sk")) {
                start = i - 2;
            } else if (i >= 4 && has_at(s, i - 4, "xox")) {
                start = i - 4;
            }
        } else if (c == '_') {
            if (i >= 2 && (has_at(s, i - 2, "sk") || has_at(s, i - 2, "rk"))) {
                start = i - 2;
            } else if (i >= 3 && has_at(s, i - 3, "gh")) {
                start = i - 3;
            } else if (i >= 6 && has_at(s, i - 6, "github")) {
                start = i - 6;
            }
        } else if (c == '+' || c == '(') {
            if (is_digit(at(s, i + 1)) && word_start(s, i)) {
                m = match_number(s, i);
                start = i;
            }
        } else if (is_digit(c)) {
            if (word_start(s, i)) {
                m = match_number(s, i);
                start = i;
            }
        } else if (word_start(s, i)) {  // upper-case letter at a word start
            m = match_credential(s, i, options);
            if (m.length == 0) m = match_letter_id(s, i);
            start = i;
        } else if (c == 'J' && i >= 2 && has_at(s, i - 2, "ey")) {
            start = i - 2;
        }
        if (start != std::string_view::npos && m.length == 0 && start != i && start >= last_end &&
            word_start(s, start))
            m = match_credential(s, start, options);
        if (start != std::string_view::npos && m.length != 0 && start >= last_end) {
            if (m.report) emit(m.kind, start, m.length);
            i = start + m.length;
            continue;
        }
        ++i;
    }
}

}  // namespace switchyard::routing
